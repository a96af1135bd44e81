package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;
import static dev.tollgate.simulator.Http.send;
import static dev.tollgate.simulator.Http.sendJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;

/**
 * The providers' endpoints that are not calls to a model, as far as the tests of the sidecar's
 * passthrough need them: OpenAI's files (list, upload, retrieve, content, delete: {@link
 * SimulatedFiles}) and batches ({@link SimulatedOpenAiBatches}), stored responses (retrieve,
 * delete, cancel), moderations and models by id, Anthropic's message batches. Everything else
 * answers OpenAI's 404 for an unknown URL, as OpenAI does; an unknown model its {@code
 * model_not_found}.
 */
final class ResourceEndpoints {
  /** The size of {@code GET /v1/files/{id}/content}: large enough to need streaming. */
  static final int FILE_CONTENT_BYTES = 1024 * 1024;

  private ResourceEndpoints() {}

  /** Answers {@code req}; the caller checked nothing but that no dialect speaks the path. */
  static void answer(
      ProviderSimulator sim,
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      String path,
      boolean keepAlive) {
    boolean anthropic =
        path.startsWith("/v1/messages/") || AnthropicResources.isAnthropic(req.headers());
    String key = anthropic ? req.headers().get("x-api-key") : Dialect.bearer(req);
    if (!sim.accepts(key)) {
      sendJson(ctx, HttpResponseStatus.UNAUTHORIZED, error(401, "invalid api key"), keepAlive);
      return;
    }
    if (sim.behavior().fault() == Fault.ECHO_KEY) {
      sendJson(
          ctx,
          HttpResponseStatus.BAD_REQUEST,
          error(400, "invalid request with api key " + key),
          keepAlive);
      return;
    }
    HttpMethod m = req.method();
    if (anthropic && AnthropicResources.answer(ctx, m, req.headers(), path, keepAlive)) {
      return;
    }
    String[] seg = path.substring(1).split("/");
    if (anthropic && path.equals("/v1/messages/batches") && m.equals(HttpMethod.GET)) {
      ObjectNode list = JSON.createObjectNode().put("has_more", false);
      list.putArray("data");
      list.putNull("first_id").putNull("last_id");
      sendJson(ctx, HttpResponseStatus.OK, list, keepAlive);
    } else if (anthropic && path.equals("/v1/messages/batches") && m.equals(HttpMethod.POST)) {
      JsonNode body;
      try {
        body = JSON.readTree(io.netty.buffer.ByteBufUtil.getBytes(req.content()));
      } catch (java.io.IOException e) {
        body = JSON.createObjectNode();
      }
      sendJson(ctx, HttpResponseStatus.OK, sim.batches().create(body), keepAlive);
    } else if (anthropic
        && seg.length == 4
        && seg[2].equals("batches")
        && m.equals(HttpMethod.GET)) {
      ObjectNode batch = sim.batches().retrieve(seg[3]);
      sendJson(
          ctx,
          batch == null ? HttpResponseStatus.NOT_FOUND : HttpResponseStatus.OK,
          batch == null ? error(404, "no batch " + seg[3]) : batch,
          keepAlive);
    } else if (anthropic
        && seg.length == 5
        && seg[2].equals("batches")
        && seg[4].equals("results")
        && m.equals(HttpMethod.GET)) {
      String jsonl = sim.batches().results(seg[3]);
      if (jsonl == null) {
        sendJson(
            ctx,
            HttpResponseStatus.NOT_FOUND,
            error(404, "results of " + seg[3] + " are not available yet"),
            keepAlive);
      } else {
        FullHttpResponse r =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(jsonl.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/binary");
        send(ctx, r, keepAlive);
      }
    } else if (!anthropic && seg.length >= 2 && seg[1].equals("batches")) {
      openAiBatch(sim, ctx, req, m, seg, keepAlive);
    } else if (path.equals("/v1/files") && m.equals(HttpMethod.GET)) {
      ObjectNode list = JSON.createObjectNode().put("object", "list").put("has_more", false);
      ArrayNode data = list.putArray("data");
      sim.files().list().forEach(f -> data.add(f.object()));
      sendJson(ctx, HttpResponseStatus.OK, list, keepAlive);
    } else if (seg.length == 3 && seg[1].equals("files")) {
      storedFile(sim, ctx, m, seg[2], keepAlive);
    } else if (path.equals("/v1/files") && m.equals(HttpMethod.POST)) {
      ObjectNode file = JSON.createObjectNode().put("id", "file-sim").put("object", "file");
      file.put("bytes", req.content().readableBytes()).put("created_at", 1_700_000_000L);
      file.put("filename", "upload.jsonl").put("purpose", "batch").put("status", "processed");
      sendJson(ctx, HttpResponseStatus.OK, file, keepAlive);
    } else if (seg.length == 4 && seg[1].equals("files") && seg[3].equals("content")) {
      SimulatedFiles.StoredFile stored = sim.files().get(seg[2]);
      if (stored == null && seg[2].startsWith(SimulatedFiles.STORED_PREFIX)) {
        sendJson(
            ctx,
            HttpResponseStatus.NOT_FOUND,
            error(404, "No such File object: " + seg[2]),
            keepAlive);
        return;
      }
      byte[] bytes = stored == null ? syntheticContent() : stored.content();
      FullHttpResponse r =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(bytes));
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
      send(ctx, r, keepAlive);
    } else if (seg.length >= 3 && seg[1].equals("responses")) {
      storedResponse(ctx, m, seg, keepAlive);
    } else if (path.equals("/v1/moderations") && m.equals(HttpMethod.POST)) {
      ObjectNode r = JSON.createObjectNode().put("id", "modr-sim").put("model", "omni-moderation");
      ObjectNode result = r.putArray("results").addObject().put("flagged", false);
      result.putObject("categories");
      result.putObject("category_scores");
      sendJson(ctx, HttpResponseStatus.OK, r, keepAlive);
    } else if (seg.length == 3 && seg[1].equals("models") && m.equals(HttpMethod.GET)) {
      if (seg[2].startsWith("gpt") || seg[2].startsWith("text-embedding")) {
        ObjectNode model = JSON.createObjectNode().put("id", seg[2]).put("object", "model");
        model.put("created", 1_700_000_000L).put("owned_by", "simulator");
        sendJson(ctx, HttpResponseStatus.OK, model, keepAlive);
      } else {
        ObjectNode e = error(404, "The model '" + seg[2] + "' does not exist");
        ((ObjectNode) e.get("error")).put("code", "model_not_found");
        sendJson(ctx, HttpResponseStatus.NOT_FOUND, e, keepAlive);
      }
    } else {
      sendJson(
          ctx,
          HttpResponseStatus.NOT_FOUND,
          error(404, "Invalid URL (" + m + " " + path + ")"),
          keepAlive);
    }
  }

  /** Ids the simulator never stored answer {@value #FILE_CONTENT_BYTES} bytes of a-z. */
  private static byte[] syntheticContent() {
    byte[] bytes = new byte[FILE_CONTENT_BYTES];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) ('a' + i % 26);
    }
    return bytes;
  }

  private static void storedFile(
      ProviderSimulator sim,
      ChannelHandlerContext ctx,
      HttpMethod m,
      String id,
      boolean keepAlive) {
    SimulatedFiles.StoredFile f = sim.files().get(id);
    if (f == null || !(m.equals(HttpMethod.GET) || m.equals(HttpMethod.DELETE))) {
      sendJson(
          ctx,
          HttpResponseStatus.NOT_FOUND,
          error(404, f == null ? "No such File object: " + id : "Invalid URL (" + m + ")"),
          keepAlive);
    } else if (m.equals(HttpMethod.DELETE)) {
      sim.files().delete(id);
      ObjectNode r = JSON.createObjectNode().put("id", id).put("object", "file");
      sendJson(ctx, HttpResponseStatus.OK, r.put("deleted", true), keepAlive);
    } else {
      sendJson(ctx, HttpResponseStatus.OK, f.object(), keepAlive);
    }
  }

  /** {@code /v1/batches}: create, list, retrieve, cancel (see {@link SimulatedOpenAiBatches}). */
  private static void openAiBatch(
      ProviderSimulator sim,
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      HttpMethod m,
      String[] seg,
      boolean keepAlive) {
    SimulatedOpenAiBatches batches = sim.openAiBatches();
    Object answer;
    if (seg.length == 2 && m.equals(HttpMethod.POST)) {
      answer =
          batches.create(
              Http.parse(req.content().toString(java.nio.charset.StandardCharsets.UTF_8)));
    } else if (seg.length == 2 && m.equals(HttpMethod.GET)) {
      String limit =
          new QueryStringDecoder(req.uri())
              .parameters()
              .getOrDefault("limit", List.of("20"))
              .get(0);
      int n;
      try {
        n = Math.max(1, Math.min(100, Integer.parseInt(limit)));
      } catch (NumberFormatException e) {
        n = 20;
      }
      List<ObjectNode> page = batches.list(n);
      ObjectNode list = JSON.createObjectNode().put("object", "list");
      list.putArray("data").addAll(page);
      if (page.isEmpty()) {
        list.putNull("first_id").putNull("last_id");
      } else {
        list.put("first_id", page.get(0).get("id").asText());
        list.put("last_id", page.get(page.size() - 1).get("id").asText());
      }
      answer = list.put("has_more", false);
    } else if (seg.length == 3 && m.equals(HttpMethod.GET)) {
      answer = batches.retrieve(seg[2]);
    } else if (seg.length == 4 && seg[3].equals("cancel") && m.equals(HttpMethod.POST)) {
      answer = batches.cancel(seg[2]);
    } else {
      sendJson(ctx, HttpResponseStatus.NOT_FOUND, error(404, "Invalid URL (" + m + ")"), keepAlive);
      return;
    }
    if (answer == null) {
      sendJson(
          ctx,
          HttpResponseStatus.NOT_FOUND,
          error(404, "No such Batch object: " + seg[2]),
          keepAlive);
    } else if (answer instanceof SimulatedOpenAiBatches.Refusal r) {
      sendJson(ctx, HttpResponseStatus.valueOf(r.status()), r.body(), keepAlive);
    } else {
      sendJson(ctx, HttpResponseStatus.OK, (ObjectNode) answer, keepAlive);
    }
  }

  private static void storedResponse(
      ChannelHandlerContext ctx, HttpMethod m, String[] seg, boolean keepAlive) {
    String id = seg[2];
    if (m.equals(HttpMethod.DELETE) && seg.length == 3) {
      ObjectNode r = JSON.createObjectNode().put("id", id).put("object", "response.deleted");
      sendJson(ctx, HttpResponseStatus.OK, r.put("deleted", true), keepAlive);
      return;
    }
    boolean cancel = seg.length == 4 && seg[3].equals("cancel") && m.equals(HttpMethod.POST);
    if (!cancel && !(seg.length == 3 && m.equals(HttpMethod.GET))) {
      sendJson(ctx, HttpResponseStatus.NOT_FOUND, error(404, "Invalid URL"), keepAlive);
      return;
    }
    ObjectNode r = JSON.createObjectNode().put("id", id).put("object", "response");
    r.put("created_at", 1_700_000_000L).put("status", cancel ? "cancelled" : "completed");
    r.putNull("error").putNull("incomplete_details").putNull("instructions");
    r.put("model", "gpt-4o-mini");
    r.putArray("output");
    r.put("parallel_tool_calls", true).putNull("temperature").put("tool_choice", "auto");
    r.putArray("tools");
    r.putNull("top_p");
    r.putObject("metadata");
    sendJson(ctx, HttpResponseStatus.OK, r, keepAlive);
  }

  private static ObjectNode error(int status, String message) {
    ObjectNode r = new OpenAiDialect().error(status, message);
    return r;
  }
}
