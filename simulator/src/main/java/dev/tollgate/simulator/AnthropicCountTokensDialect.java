package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;

/**
 * Anthropic's token counting ({@code POST /v1/messages/count_tokens}): answers {@code
 * {"input_tokens": n}} with the simulator's input count for the body (bytes / 4, or the behaviour's
 * fixed count), the number a {@code /v1/messages} call with the same body would report. Refuses
 * {@code max_tokens} and {@code stream} as Anthropic does (the endpoint takes neither). Also Claude
 * on Vertex AI's {@code publishers/anthropic/models/count-tokens:rawPredict}, model in the body.
 */
final class AnthropicCountTokensDialect implements Dialect {
  private final AnthropicDialect messages = new AnthropicDialect();

  @Override
  public boolean bills() {
    return false;
  }

  @Override
  public boolean speaks(String path) {
    return path.endsWith("/v1/messages/count_tokens") || path.endsWith("/count-tokens:rawPredict");
  }

  @Override
  public String model(String path, JsonNode json) {
    return json.path("model").asText("unknown");
  }

  @Override
  public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
    return messages.apiKey(req, qs);
  }

  @Override
  public boolean streams(String path, JsonNode json) {
    return false;
  }

  @Override
  public int maxTokens(JsonNode json) {
    return 0; // counting produces no output
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
    return rejection(json);
  }

  /** Why Anthropic refuses a count_tokens body, or null. */
  static String rejection(JsonNode json) {
    for (String field : List.of("max_tokens", "stream")) {
      if (json.has(field)) {
        return field + ": Extra inputs are not permitted";
      }
    }
    return json.path("messages").isArray() ? null : "messages: Field required";
  }

  @Override
  public ObjectNode full(Call c) {
    return JSON.createObjectNode().put("input_tokens", c.input());
  }

  @Override
  public List<Frame> frames(Call c) {
    throw new IllegalStateException("token counting never streams");
  }

  @Override
  public ObjectNode error(int status, String message) {
    return messages.error(status, message);
  }
}
