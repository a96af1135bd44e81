package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;

/**
 * Bedrock Converse at {@code /model/{id}/converse} and {@code /converse-stream}: bearer API key,
 * streams as AWS event-stream frames, and a 400 for a {@code cachePoint} on a model Bedrock does
 * not cache for.
 */
final class BedrockDialect implements Dialect {

  @Override
  public boolean signsWithAws() {
    return true;
  }

  @Override
  public boolean speaks(String path) {
    return path.startsWith("/model/")
        && (path.endsWith("/converse") || path.endsWith("/converse-stream"));
  }

  @Override
  public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
    return Dialect.bearer(req);
  }

  @Override
  public String model(String path, JsonNode json) {
    return Dialect.bedrockModel(path);
  }

  @Override
  public boolean streams(String path, JsonNode json) {
    return path.endsWith("/converse-stream");
  }

  @Override
  public int maxTokens(JsonNode json) {
    return json.path("inferenceConfig").path("maxTokens").asInt(Integer.MAX_VALUE);
  }

  @Override
  public JsonNode tools(JsonNode json) {
    return json.path("toolConfig").path("tools");
  }

  @Override
  public boolean reportsCacheWrites() {
    return true;
  }

  @Override
  public SimulatedPromptCache.Hit promptCacheHit(
      SimulatedPromptCache cache, String model, JsonNode json) {
    return cache.marked(model, json, true);
  }

  @Override
  public String rejection(String model, JsonNode json) {
    // as Bedrock does for a model without prompt caching
    if (json.toString().contains("\"cachePoint\"") && !SimulatedPromptCache.bedrockCaches(model)) {
      return "You invoked an unsupported model or your request did not allow prompt caching.";
    }
    // images and documents: bytes (or S3) only, known formats, names of the allowed characters
    for (JsonNode m : json.path("messages")) {
      for (JsonNode b : m.path("content")) {
        JsonNode img = b.path("image");
        if (img.isObject()
            && (!List.of("png", "jpeg", "gif", "webp").contains(img.path("format").asText())
                || img.path("source").path("bytes").asText().isEmpty())) {
          return "The model returned the following errors: invalid image";
        }
        JsonNode doc = b.path("document");
        if (doc.isObject()
            && (doc.path("source").path("bytes").asText().isEmpty()
                || !doc.path("name").asText().matches("[A-Za-z0-9()\\[\\] -]+"))) {
          return "The model returned the following errors: invalid document";
        }
      }
    }
    return null;
  }

  @Override
  public String forcedTool(JsonNode json) {
    return json.path("toolConfig").path("toolChoice").path("tool").path("name").asText(null);
  }

  private static ObjectNode usage(Call c) {
    ObjectNode u = JSON.createObjectNode();
    u.put("inputTokens", c.input());
    u.put("outputTokens", c.output());
    u.put("totalTokens", c.input() + c.output());
    u.put("cacheReadInputTokens", c.cacheRead());
    u.put("cacheWriteInputTokens", c.cacheWrite());
    return u;
  }

  @Override
  public ObjectNode full(Call c) {
    ObjectNode r = JSON.createObjectNode();
    ObjectNode msg = r.putObject("output").putObject("message").put("role", "assistant");
    ArrayNode content = msg.putArray("content");
    if (c.toolCall()) {
      ObjectNode use = content.addObject().putObject("toolUse").put("toolUseId", "tooluse_sim_1");
      use.put("name", c.b().toolCallName());
      use.set("input", Http.parse(c.b().toolCallArguments()));
    } else {
      if (c.thinks()) {
        content
            .addObject()
            .putObject("reasoningContent")
            .putObject("reasoningText")
            .put("text", Call.THOUGHT)
            .put("signature", Call.THOUGHT_SIGNATURE);
      }
      content.addObject().put("text", Call.text(c.output()));
    }
    r.put("stopReason", AnthropicDialect.stop(c));
    if (!c.b().omitUsage()) {
      r.set("usage", usage(c));
    }
    r.putObject("metrics").put("latencyMs", 1);
    return r;
  }

  @Override
  public List<Frame> frames(Call c) {
    List<Frame> frames = new ArrayList<>();
    frames.add(new Frame("messageStart", "{\"role\":\"assistant\"}", 0));
    if (c.toolCall()) {
      ObjectNode start = JSON.createObjectNode().put("contentBlockIndex", 0);
      start
          .putObject("start")
          .putObject("toolUse")
          .put("toolUseId", "tooluse_sim_1")
          .put("name", c.b().toolCallName());
      frames.add(new Frame("contentBlockStart", start.toString(), c.output()));
      ObjectNode d = JSON.createObjectNode().put("contentBlockIndex", 0);
      d.putObject("delta").putObject("toolUse").put("input", c.b().toolCallArguments());
      frames.add(new Frame("contentBlockDelta", d.toString(), 0));
      frames.add(new Frame("contentBlockStop", "{\"contentBlockIndex\":0}", 0));
    } else {
      int index = 0;
      if (c.thinks()) {
        // reasoning first, as ConverseStream sends it: text deltas, then the signature delta
        ObjectNode t = JSON.createObjectNode().put("contentBlockIndex", 0);
        t.putObject("delta").putObject("reasoningContent").put("text", Call.THOUGHT);
        frames.add(new Frame("contentBlockDelta", t.toString(), 0));
        ObjectNode sig = JSON.createObjectNode().put("contentBlockIndex", 0);
        sig.putObject("delta")
            .putObject("reasoningContent")
            .put("signature", Call.THOUGHT_SIGNATURE);
        frames.add(new Frame("contentBlockDelta", sig.toString(), 0));
        frames.add(new Frame("contentBlockStop", "{\"contentBlockIndex\":0}", 0));
        index = 1;
      }
      for (int i = 0; i < c.output(); i++) {
        ObjectNode d = JSON.createObjectNode().put("contentBlockIndex", index);
        d.putObject("delta").put("text", Call.token(i));
        frames.add(new Frame("contentBlockDelta", d.toString(), 1));
      }
      frames.add(new Frame("contentBlockStop", "{\"contentBlockIndex\":" + index + "}", 0));
    }
    frames.add(
        new Frame(
            "messageStop",
            JSON.createObjectNode().put("stopReason", AnthropicDialect.stop(c)).toString(),
            0));
    if (!c.b().omitUsage()) {
      ObjectNode meta = JSON.createObjectNode();
      meta.set("usage", usage(c));
      meta.putObject("metrics").put("latencyMs", 1);
      frames.add(new Frame("metadata", meta.toString(), 0));
    }
    return frames;
  }

  /** An AWS event-stream message whose {@code :event-type} is the frame's event. */
  @Override
  public HttpContent encode(Frame frame) {
    Map<String, HeaderValue> headers = new LinkedHashMap<>();
    headers.put(":event-type", HeaderValue.fromString(frame.event()));
    headers.put(":content-type", HeaderValue.fromString("application/json"));
    headers.put(":message-type", HeaderValue.fromString("event"));
    ByteBuffer bytes =
        new Message(headers, frame.data().getBytes(StandardCharsets.UTF_8)).toByteBuffer();
    return new DefaultHttpContent(Unpooled.wrappedBuffer(bytes));
  }

  @Override
  public String streamContentType() {
    return "application/vnd.amazon.eventstream";
  }

  @Override
  public ObjectNode error(int status, String message) {
    return JSON.createObjectNode().put("message", message);
  }
}
