package dev.tollgate.sidecar.provider.vertex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.EndpointAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.gemini.GeminiCountTokens;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.Json;
import java.net.URI;
import java.util.List;

/**
 * Token counting for Claude on Vertex AI: Anthropic's count_tokens body, with the target model and
 * {@code anthropic_version} in it, posted to the publisher's {@code count-tokens:rawPredict}
 * endpoint, which answers in Anthropic's shape ({@code {"input_tokens": n}}), relayed as sent.
 * Free, like Anthropic's. Gemini models on Vertex are refused with a 400 before anything is sent: a
 * count from another tokenizer, or an estimate, would mislead a caller that compacts its context by
 * it.
 */
final class VertexCountTokensAdapter extends EndpointAdapter {
  VertexCountTokensAdapter(ProviderAdapter chat) {
    super(ApiFormat.ANTHROPIC_COUNT_TOKENS, chat);
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    if (!VertexAdapter.isClaude(model)) {
      return URI.create(VertexAdapter.publisher(c, "google") + "/models/" + model + ":countTokens");
    }
    return URI.create(VertexAdapter.publisher(c, "anthropic") + "/models/count-tokens:rawPredict");
  }

  /**
   * The target model stays in the body (the endpoint is shared by every Claude model); the API
   * version goes in it as for {@code rawPredict}; a tier's output limit is not a field here.
   */
  @Override
  public ObjectNode forward(ObjectNode callerBody, String model, boolean stream) {
    if (!VertexAdapter.isClaude(model)) {
      return GeminiCountTokens.contents(callerBody);
    }
    callerBody.remove("max_tokens");
    callerBody.put("model", model);
    if (!callerBody.has("anthropic_version")) {
      callerBody.put("anthropic_version", VertexAdapter.ANTHROPIC_VERSION);
    }
    return callerBody;
  }

  /** Claude's answer is Anthropic's already; a Gemini model's is rewritten. */
  @Override
  public boolean rewritesAnswer() {
    return true;
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    if (!VertexAdapter.isClaude(model)) {
      return GeminiCountTokens.decode(body, model);
    }
    return new ChatResponse(
        "", model, List.of(new ChatRequest.Text(Json.write(body))), FinishReason.STOP, Usage.ZERO);
  }
}
