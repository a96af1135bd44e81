package dev.tollgate.sidecar.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.provider.EndpointAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.StreamDecoder;
import java.net.URI;

/**
 * OpenAI's Responses endpoint ({@code /responses}; Azure OpenAI's v1 API at {@code
 * /openai/v1/responses}, where the target model names the deployment), forwarded as sent with the
 * target model; the answer or stream is relayed as sent and read for usage ({@code
 * response.completed}).
 */
final class OpenAiResponsesAdapter extends EndpointAdapter {
  OpenAiResponsesAdapter(ProviderAdapter chat) {
    super(ApiFormat.OPENAI_RESPONSES, chat);
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    String base = ProviderAdapter.trimSlash(c.effectiveEndpoint().orElseThrow());
    return URI.create(
        c.provider() == ProviderKind.AZURE_OPENAI
            ? base + "/openai/v1/responses"
            : base + "/responses");
  }

  /** The target model, and a tier's output limit as Responses names it. */
  @Override
  public ObjectNode forward(ObjectNode body, String model, boolean stream) {
    JsonNode tierMax = body.remove("max_tokens");
    if (tierMax != null && tierMax.canConvertToLong()) {
      long asked = body.path("max_output_tokens").asLong(Long.MAX_VALUE);
      body.put("max_output_tokens", Math.min(asked, tierMax.asLong()));
    }
    return body.put("model", model);
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    return ResponsesWire.decodeResponse(body);
  }

  @Override
  public StreamDecoder streamDecoder(String model) {
    return new ResponsesWire.Decoder();
  }
}
