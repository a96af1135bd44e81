package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;
import static dev.tollgate.simulator.Http.send;
import static dev.tollgate.simulator.Http.sendJson;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Anthropic's endpoints that share their paths with OpenAI's ({@code /v1/files}, {@code
 * /v1/models}), told apart by the {@code anthropic-version} header as the real APIs are: the Files
 * API (beta: refused without the {@code files-api-...} beta header) and the model list. Shapes as
 * in Anthropic's API reference: {@code FileMetadata}, {@code ModelInfo}, paged lists with {@code
 * first_id}/{@code last_id}, errors of type {@code not_found_error}.
 */
final class AnthropicResources {
  static final List<String> MODELS =
      List.of("claude-sonnet-4-20250514", "claude-3-5-haiku-20241022");

  private AnthropicResources() {}

  /** Whether a request is Anthropic's: the header every Anthropic SDK sends. */
  static boolean isAnthropic(HttpHeaders headers) {
    return headers.contains("anthropic-version");
  }

  /** Answers {@code path}; true when it was one of these endpoints. */
  static boolean answer(
      ChannelHandlerContext ctx,
      HttpMethod m,
      HttpHeaders headers,
      String path,
      boolean keepAlive) {
    String[] seg = path.substring(1).split("/");
    if (seg.length >= 2 && seg[1].equals("models") && m.equals(HttpMethod.GET)) {
      models(ctx, seg, keepAlive);
      return true;
    }
    if (seg.length < 2 || !seg[1].equals("files")) {
      return false;
    }
    String beta = headers.get("anthropic-beta", "");
    if (!beta.contains("files-api-")) {
      sendJson(
          ctx,
          HttpResponseStatus.BAD_REQUEST,
          error("invalid_request_error", "the Files API is in beta: send anthropic-beta"),
          keepAlive);
      return true;
    }
    if (seg.length == 2 && m.equals(HttpMethod.GET)) {
      ObjectNode list = JSON.createObjectNode();
      list.putArray("data").add(file("file_sim", 42));
      list.put("has_more", false).put("first_id", "file_sim").put("last_id", "file_sim");
      sendJson(ctx, HttpResponseStatus.OK, list, keepAlive);
    } else if (seg.length == 3 && m.equals(HttpMethod.GET)) {
      sendJson(ctx, HttpResponseStatus.OK, file(seg[2], 42), keepAlive);
    } else if (seg.length == 3 && m.equals(HttpMethod.DELETE)) {
      ObjectNode r = JSON.createObjectNode().put("id", seg[2]).put("type", "file_deleted");
      sendJson(ctx, HttpResponseStatus.OK, r, keepAlive);
    } else if (seg.length == 4 && seg[3].equals("content") && m.equals(HttpMethod.GET)) {
      FullHttpResponse r =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.OK,
              Unpooled.copiedBuffer("simulated file " + seg[2], StandardCharsets.UTF_8));
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
      send(ctx, r, keepAlive);
    } else {
      sendJson(
          ctx,
          HttpResponseStatus.NOT_FOUND,
          error("not_found_error", "Not Found: " + m + " " + path),
          keepAlive);
    }
    return true;
  }

  /** A file's metadata, as the Files API answers an upload or a retrieval. */
  static ObjectNode file(String id, long bytes) {
    ObjectNode f = JSON.createObjectNode().put("id", id).put("type", "file");
    f.put("filename", "upload.bin").put("mime_type", "application/octet-stream");
    f.put("size_bytes", bytes).put("created_at", "2025-04-14T00:00:00Z");
    return f.put("downloadable", false);
  }

  private static void models(ChannelHandlerContext ctx, String[] seg, boolean keepAlive) {
    if (seg.length == 2) {
      ObjectNode list = JSON.createObjectNode();
      ArrayNode data = list.putArray("data");
      MODELS.forEach(id -> data.add(model(id)));
      list.put("has_more", false)
          .put("first_id", MODELS.get(0))
          .put("last_id", MODELS.get(MODELS.size() - 1));
      sendJson(ctx, HttpResponseStatus.OK, list, keepAlive);
    } else if (seg.length == 3 && MODELS.contains(seg[2])) {
      sendJson(ctx, HttpResponseStatus.OK, model(seg[2]), keepAlive);
    } else {
      sendJson(
          ctx,
          HttpResponseStatus.NOT_FOUND,
          error("not_found_error", "model: " + (seg.length > 2 ? seg[2] : "")),
          keepAlive);
    }
  }

  private static ObjectNode model(String id) {
    return JSON.createObjectNode()
        .put("type", "model")
        .put("id", id)
        .put("display_name", id)
        .put("created_at", "2025-05-22T00:00:00Z");
  }

  static ObjectNode error(String type, String message) {
    ObjectNode r = JSON.createObjectNode().put("type", "error");
    r.putObject("error").put("type", type).put("message", message);
    return r;
  }
}
