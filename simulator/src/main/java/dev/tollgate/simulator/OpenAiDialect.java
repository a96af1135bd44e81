package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI Chat Completions, at any path ending in {@code /chat/completions} (Azure's deployment
 * paths and the OpenAI-compatible providers included).
 */
final class OpenAiDialect implements Dialect {

  @Override
  public boolean speaks(String path) {
    return path.endsWith("/chat/completions");
  }

  @Override
  public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
    String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
    String azure = req.headers().get("api-key");
    return azure != null
        ? azure
        : auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
  }

  @Override
  public int maxTokens(JsonNode json) {
    return json.has("max_completion_tokens")
        ? json.path("max_completion_tokens").asInt()
        : json.path("max_tokens").asInt(Integer.MAX_VALUE);
  }

  @Override
  public SimulatedPromptCache.Hit promptCacheHit(
      SimulatedPromptCache cache, String model, JsonNode json) {
    return cache.automatic(model, json, false, true);
  }

  private static ObjectNode usage(Call c) {
    ObjectNode u = JSON.createObjectNode();
    int prompt = c.input() + c.cacheRead();
    u.put("prompt_tokens", prompt);
    u.put("completion_tokens", c.output());
    u.put("total_tokens", prompt + c.output());
    u.putObject("prompt_tokens_details").put("cached_tokens", c.cacheRead());
    return u;
  }

  private static String finish(Call c) {
    return c.toolCall() ? "tool_calls" : c.truncated() ? "length" : "stop";
  }

  @Override
  public ObjectNode full(Call c) {
    ObjectNode r = JSON.createObjectNode();
    r.put("id", "chatcmpl-sim").put("object", "chat.completion").put("created", 1_700_000_000L);
    r.put("model", c.model());
    ObjectNode choice = r.putArray("choices").addObject();
    choice.put("index", 0);
    ObjectNode msg = choice.putObject("message").put("role", "assistant");
    if (c.toolCall()) {
      msg.putNull("content");
      ObjectNode tc = msg.putArray("tool_calls").addObject();
      tc.put("id", "call_sim_1").put("type", "function");
      tc.putObject("function")
          .put("name", c.b().toolCallName())
          .put("arguments", c.b().toolCallArguments());
    } else {
      msg.put("content", Call.text(c.output()));
    }
    choice.putNull("logprobs");
    choice.put("finish_reason", finish(c));
    if (!c.b().omitUsage()) {
      r.set("usage", usage(c));
    }
    return r;
  }

  private static ObjectNode chunk(Call c) {
    ObjectNode r = JSON.createObjectNode();
    r.put("id", "chatcmpl-sim")
        .put("object", "chat.completion.chunk")
        .put("created", 1_700_000_000L);
    r.put("model", c.model());
    return r;
  }

  @Override
  public List<Frame> frames(Call c) {
    List<Frame> frames = new ArrayList<>();
    ObjectNode first = chunk(c);
    ObjectNode ch = first.putArray("choices").addObject().put("index", 0);
    ch.putObject("delta").put("role", "assistant").put("content", "");
    ch.putNull("finish_reason");
    frames.add(new Frame(null, first.toString(), 0));
    if (c.toolCall()) {
      ObjectNode named = chunk(c);
      ObjectNode d = named.putArray("choices").addObject().put("index", 0).putObject("delta");
      ObjectNode tc = d.putArray("tool_calls").addObject().put("index", 0);
      tc.put("id", "call_sim_1").put("type", "function");
      tc.putObject("function").put("name", c.b().toolCallName()).put("arguments", "");
      // a tool call's output tokens are counted once, on the frame that carries the name
      frames.add(new Frame(null, named.toString(), c.output()));
      String args = c.b().toolCallArguments();
      int half = args.length() / 2;
      for (String part : List.of(args.substring(0, half), args.substring(half))) {
        ObjectNode a = chunk(c);
        ObjectNode ad = a.putArray("choices").addObject().put("index", 0).putObject("delta");
        ad.putArray("tool_calls")
            .addObject()
            .put("index", 0)
            .putObject("function")
            .put("arguments", part);
        frames.add(new Frame(null, a.toString(), 0));
      }
    } else {
      for (int i = 0; i < c.output(); i++) {
        ObjectNode delta = chunk(c);
        ObjectNode choice = delta.putArray("choices").addObject().put("index", 0);
        choice.putObject("delta").put("content", Call.token(i));
        choice.putNull("finish_reason");
        frames.add(new Frame(null, delta.toString(), 1));
      }
    }
    ObjectNode last = chunk(c);
    ObjectNode lc = last.putArray("choices").addObject().put("index", 0);
    lc.putObject("delta");
    lc.put("finish_reason", finish(c));
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
    ObjectNode r = JSON.createObjectNode();
    ObjectNode e = r.putObject("error").put("message", message);
    e.put(
        "type",
        status == 429
            ? "rate_limit_exceeded"
            : status >= 500 ? "server_error" : "invalid_request_error");
    e.putNull("param");
    e.putNull("code");
    return r;
  }
}
