package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI's legacy completions, at any path ending in {@code /completions} but not {@code
 * /chat/completions}: a {@code text_completion} with one choice, streamed as text chunks, the usage
 * chunk when {@code stream_options.include_usage} asks for it, and {@code [DONE]}.
 */
final class OpenAiCompletionsDialect implements Dialect {
  private final OpenAiDialect chat = new OpenAiDialect();

  @Override
  public boolean speaks(String path) {
    return path.endsWith("/completions") && !path.endsWith("/chat/completions");
  }

  @Override
  public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
    return chat.apiKey(req, qs);
  }

  @Override
  public int maxTokens(JsonNode json) {
    return json.path("max_tokens").asInt(16); // the legacy endpoint's default is 16
  }

  @Override
  public JsonNode tools(JsonNode json) {
    return JSON.createArrayNode();
  }

  @Override
  public SimulatedPromptCache.Hit promptCacheHit(
      SimulatedPromptCache cache, String model, JsonNode json) {
    return null;
  }

  @Override
  public String rejection(String model, JsonNode json) {
    return json.has("prompt") ? null : "you must provide a prompt parameter";
  }

  private static ObjectNode usage(Call c) {
    ObjectNode u = JSON.createObjectNode();
    u.put("prompt_tokens", c.input()).put("completion_tokens", c.output());
    return u.put("total_tokens", c.input() + c.output());
  }

  private static ObjectNode chunk(Call c) {
    return JSON.createObjectNode()
        .put("id", "cmpl-sim")
        .put("object", "text_completion")
        .put("created", 1_700_000_000L)
        .put("model", c.model());
  }

  @Override
  public ObjectNode full(Call c) {
    ObjectNode r = chunk(c);
    ObjectNode choice = r.putArray("choices").addObject();
    choice.put("text", Call.text(c.output())).put("index", 0).putNull("logprobs");
    choice.put("finish_reason", c.truncated() ? "length" : "stop");
    if (!c.b().omitUsage()) {
      r.set("usage", usage(c));
    }
    return r;
  }

  @Override
  public List<Frame> frames(Call c) {
    List<Frame> frames = new ArrayList<>();
    for (int i = 0; i < c.output(); i++) {
      ObjectNode d = chunk(c);
      d.putArray("choices")
          .addObject()
          .put("text", Call.token(i))
          .put("index", 0)
          .putNull("finish_reason");
      frames.add(new Frame(null, d.toString(), 1));
    }
    ObjectNode last = chunk(c);
    last.putArray("choices")
        .addObject()
        .put("text", "")
        .put("index", 0)
        .put("finish_reason", c.truncated() ? "length" : "stop");
    frames.add(new Frame(null, last.toString(), 0));
    if (c.includeUsage() && !c.b().omitUsage()) {
      ObjectNode u = chunk(c);
      u.putArray("choices");
      u.set("usage", usage(c));
      frames.add(new Frame(null, u.toString(), 0));
    }
    frames.add(new Frame(null, "[DONE]", 0));
    return frames;
  }

  @Override
  public ObjectNode error(int status, String message) {
    return chat.error(status, message);
  }
}
