package dev.tollgate.sidecar.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import java.util.List;

/**
 * Anthropic's count_tokens body counted by a Gemini model's own {@code countTokens} (the Gemini API
 * and Vertex AI): the messages, system prompt and tools translated as for {@code generateContent},
 * the answer's {@code totalTokens} returned as Anthropic's {@code input_tokens}. The count is the
 * serving model's tokenizer's, never an estimate.
 */
public final class GeminiCountTokens {
  private GeminiCountTokens() {}

  /** The request as {@code generateContent} would take it, without generation settings. */
  public static ObjectNode contents(ObjectNode anthropicBody) {
    ChatRequest r = AnthropicWire.parseCountTokensRequest(anthropicBody);
    ObjectNode g = GeminiWire.encodeRequest(r);
    g.remove("generationConfig");
    return g;
  }

  /** {@code {"totalTokens": n}} as Anthropic's {@code {"input_tokens": n}}; free. */
  public static ChatResponse decode(JsonNode body, String model) {
    JsonNode n = body.path("totalTokens");
    if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider's token count has no valid totalTokens");
    }
    ObjectNode answer = Json.object().put("input_tokens", n.asLong());
    return new ChatResponse(
        "",
        model,
        List.of(new ChatRequest.Text(Json.write(answer))),
        FinishReason.STOP,
        Usage.ZERO);
  }
}
