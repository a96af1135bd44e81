package dev.tollgate.sidecar.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.EndpointAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.Json;
import java.net.URI;
import java.util.List;

/**
 * Anthropic's {@code /v1/messages/count_tokens}. Counting is free, so the call's usage is zero
 * tokens (priced $0) whatever the count; the answer is relayed as sent and kept whole as the
 * neutral answer's text for the response cache.
 */
final class AnthropicCountTokensAdapter extends EndpointAdapter {
  AnthropicCountTokensAdapter(ProviderAdapter chat) {
    super(ApiFormat.ANTHROPIC_COUNT_TOKENS, chat);
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    return URI.create(
        ProviderAdapter.trimSlash(c.effectiveEndpoint().orElseThrow())
            + "/v1/messages/count_tokens");
  }

  /** The target model; a tier's output limit is not a field of this endpoint, which refuses it. */
  @Override
  public ObjectNode forward(ObjectNode callerBody, String model, boolean stream) {
    callerBody.remove("max_tokens");
    return callerBody.put("model", model);
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    return new ChatResponse(
        "", model, List.of(new ChatRequest.Text(Json.write(body))), FinishReason.STOP, Usage.ZERO);
  }
}
