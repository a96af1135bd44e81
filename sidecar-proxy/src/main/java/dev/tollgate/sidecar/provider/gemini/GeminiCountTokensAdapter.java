package dev.tollgate.sidecar.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.EndpointAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.Json;
import java.net.URI;

/**
 * Anthropic's {@code /v1/messages/count_tokens} at the Gemini API: {@code
 * models/{model}:countTokens} with a {@code generateContentRequest} (so the system instruction and
 * tools count too); see {@link GeminiCountTokens}.
 */
final class GeminiCountTokensAdapter extends EndpointAdapter {
  GeminiCountTokensAdapter(ProviderAdapter chat) {
    super(ApiFormat.ANTHROPIC_COUNT_TOKENS, chat);
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    return URI.create(
        ProviderAdapter.trimSlash(c.effectiveEndpoint().orElseThrow())
            + "/v1beta/models/"
            + model
            + ":countTokens");
  }

  @Override
  public ObjectNode forward(ObjectNode callerBody, String model, boolean stream) {
    ObjectNode g = GeminiCountTokens.contents(callerBody).put("model", "models/" + model);
    ObjectNode body = Json.object();
    body.set("generateContentRequest", g);
    return body;
  }

  @Override
  public boolean rewritesAnswer() {
    return true;
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    return GeminiCountTokens.decode(body, model);
  }
}
