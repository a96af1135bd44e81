package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.List;

/**
 * Anthropic Messages, at any path ending in {@code /messages}, and Claude on Vertex AI ({@code
 * :rawPredict}, {@code :streamRawPredict}, model in the path, bearer token).
 */
final class AnthropicDialect implements Dialect {

  @Override
  public boolean speaks(String path) {
    return path.endsWith("/messages")
        || (path.contains(":rawPredict") && !path.endsWith("/count-tokens:rawPredict"))
        || path.contains(":streamRawPredict");
  }

  @Override
  public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
    return Dialect.bearer(req) != null
        ? Dialect.bearer(req)
        : req.headers().contains("anthropic-version") ? req.headers().get("x-api-key") : null;
  }

  @Override
  public int maxTokens(JsonNode json) {
    return json.path("max_tokens").asInt(Integer.MAX_VALUE);
  }

  @Override
  public boolean reportsCacheWrites() {
    return true;
  }

  @Override
  public SimulatedPromptCache.Hit promptCacheHit(
      SimulatedPromptCache cache, String model, JsonNode json) {
    return cache.marked(model, json, false);
  }

  @Override
  public String forcedTool(JsonNode json) {
    JsonNode tc = json.path("tool_choice");
    return "tool".equals(tc.path("type").asText()) ? tc.path("name").asText(null) : null;
  }

  /** What Messages refuses of images and documents: other media types, sources without data. */
  @Override
  public String rejection(String model, JsonNode json) {
    JsonNode messages = json.path("messages");
    for (int i = 0; i < messages.size(); i++) {
      JsonNode content = messages.get(i).path("content");
      for (int k = 0; k < content.size(); k++) {
        JsonNode b = content.get(k);
        String type = b.path("type").asText();
        JsonNode src = b.path("source");
        String at = "messages." + i + ".content." + k;
        if (("image".equals(type) || "document".equals(type))
            && "base64".equals(src.path("type").asText())) {
          String mt = src.path("media_type").asText();
          boolean ok =
              "image".equals(type)
                  ? List.of("image/jpeg", "image/png", "image/gif", "image/webp").contains(mt)
                  : "application/pdf".equals(mt);
          if (!ok || src.path("data").asText().isEmpty()) {
            return at + ".source: invalid " + type + " source";
          }
        } else if (("image".equals(type) || "document".equals(type))
            && !"url".equals(src.path("type").asText())
            && !"text".equals(src.path("type").asText())) {
          return at + ".source.type: Input tag '" + src.path("type").asText() + "' is invalid";
        }
      }
    }
    return null;
  }

  private static ObjectNode usage(Call c, int output) {
    ObjectNode u = JSON.createObjectNode();
    u.put("input_tokens", c.input());
    u.put("cache_creation_input_tokens", c.cacheWrite());
    u.put("cache_read_input_tokens", c.cacheRead());
    u.put("output_tokens", output);
    return u;
  }

  /** Claude's stop reason; Bedrock Converse reports the same values. */
  static String stop(Call c) {
    return c.toolCall() ? "tool_use" : c.truncated() ? "max_tokens" : "end_turn";
  }

  @Override
  public ObjectNode full(Call c) {
    ObjectNode r = JSON.createObjectNode();
    r.put("id", "msg_sim").put("type", "message").put("role", "assistant").put("model", c.model());
    ArrayNode content = r.putArray("content");
    if (c.toolCall()) {
      ObjectNode t = content.addObject().put("type", "tool_use").put("id", "toolu_sim_1");
      t.put("name", c.b().toolCallName());
      t.set("input", Http.parse(c.b().toolCallArguments()));
    } else {
      if (c.thinks()) {
        content
            .addObject()
            .put("type", "thinking")
            .put("thinking", Call.THOUGHT)
            .put("signature", Call.THOUGHT_SIGNATURE);
      }
      content.addObject().put("type", "text").put("text", Call.text(c.output()));
    }
    r.put("stop_reason", stop(c));
    r.putNull("stop_sequence");
    if (!c.b().omitUsage()) {
      r.set("usage", usage(c, c.output()));
    }
    return r;
  }

  @Override
  public List<Frame> frames(Call c) {
    List<Frame> frames = new ArrayList<>();
    ObjectNode start = JSON.createObjectNode().put("type", "message_start");
    ObjectNode msg = start.putObject("message");
    msg.put("id", "msg_sim")
        .put("type", "message")
        .put("role", "assistant")
        .put("model", c.model());
    msg.putArray("content");
    msg.putNull("stop_reason");
    msg.putNull("stop_sequence");
    if (!c.b().omitUsage()) {
      msg.set("usage", usage(c, 1));
    }
    frames.add(new Frame("message_start", start.toString(), 0));
    int index = 0;
    if (c.thinks()) {
      // a thinking block first, as Claude streams it: thinking_delta, then its signature_delta
      frames.add(
          new Frame(
              "content_block_start",
              "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
                  + "{\"type\":\"thinking\",\"thinking\":\"\"}}",
              0));
      ObjectNode t = JSON.createObjectNode().put("type", "content_block_delta").put("index", 0);
      t.putObject("delta").put("type", "thinking_delta").put("thinking", Call.THOUGHT);
      frames.add(new Frame("content_block_delta", t.toString(), 0));
      ObjectNode sig = JSON.createObjectNode().put("type", "content_block_delta").put("index", 0);
      sig.putObject("delta")
          .put("type", "signature_delta")
          .put("signature", Call.THOUGHT_SIGNATURE);
      frames.add(new Frame("content_block_delta", sig.toString(), 0));
      frames.add(
          new Frame("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}", 0));
      index = 1;
    }
    ObjectNode blockStart =
        JSON.createObjectNode().put("type", "content_block_start").put("index", index);
    if (c.toolCall()) {
      ObjectNode cb = blockStart.putObject("content_block").put("type", "tool_use");
      cb.put("id", "toolu_sim_1").put("name", c.b().toolCallName());
      cb.putObject("input");
    } else {
      blockStart.putObject("content_block").put("type", "text").put("text", "");
    }
    frames.add(new Frame("content_block_start", blockStart.toString(), 0));
    frames.add(new Frame("ping", "{\"type\":\"ping\"}", 0));
    if (c.toolCall()) {
      String args = c.b().toolCallArguments();
      int half = args.length() / 2;
      boolean first = true;
      for (String part : List.of(args.substring(0, half), args.substring(half))) {
        ObjectNode d =
            JSON.createObjectNode().put("type", "content_block_delta").put("index", index);
        d.putObject("delta").put("type", "input_json_delta").put("partial_json", part);
        frames.add(new Frame("content_block_delta", d.toString(), first ? c.output() : 0));
        first = false;
      }
    } else {
      for (int i = 0; i < c.output(); i++) {
        ObjectNode d =
            JSON.createObjectNode().put("type", "content_block_delta").put("index", index);
        d.putObject("delta").put("type", "text_delta").put("text", Call.token(i));
        frames.add(new Frame("content_block_delta", d.toString(), 1));
      }
    }
    frames.add(
        new Frame(
            "content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" + index + "}", 0));
    ObjectNode delta = JSON.createObjectNode().put("type", "message_delta");
    delta.putObject("delta").put("stop_reason", stop(c)).putNull("stop_sequence");
    if (!c.b().omitUsage()) {
      delta.putObject("usage").put("output_tokens", c.output());
    }
    frames.add(new Frame("message_delta", delta.toString(), 0));
    frames.add(new Frame("message_stop", "{\"type\":\"message_stop\"}", 0));
    return frames;
  }

  @Override
  public ObjectNode error(int status, String message) {
    ObjectNode r = JSON.createObjectNode();
    r.put("type", "error");
    String type =
        switch (status) {
          case 429 -> "rate_limit_error";
          case 529 -> "overloaded_error";
          case 401 -> "authentication_error";
          case 400, 404, 405 -> "invalid_request_error";
          default -> "api_error";
        };
    r.putObject("error").put("type", type).put("message", message);
    return r;
  }

  @Override
  public int overloadedStatus() {
    return 529;
  }
}
