package dev.tollgate.sidecar.provider.openai;

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
 * OpenAI's embeddings endpoint ({@code /embeddings}; Azure OpenAI's under the credential's
 * deployment) and the OpenAI-compatible providers' (Mistral, Ollama...). The answer is relayed as
 * sent; its {@code usage.prompt_tokens} are the call's input tokens (embeddings have no output).
 * The whole answer is kept as the neutral answer's text, so that the response cache can replay it.
 */
final class OpenAiEmbeddingsAdapter extends EndpointAdapter {
  OpenAiEmbeddingsAdapter(ProviderAdapter chat) {
    super(ApiFormat.OPENAI_EMBEDDINGS, chat);
  }

  @Override
  public URI url(CredentialConfig credential, String model, boolean stream) {
    return OpenAiAdapter.operation(credential, "/embeddings");
  }

  /** The target model; a tier's output limit means nothing here and would be refused. */
  @Override
  public ObjectNode forward(ObjectNode callerBody, String model, boolean stream) {
    callerBody.remove("max_tokens");
    callerBody.remove("max_completion_tokens");
    return callerBody.put("model", model);
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    JsonNode u = body.path("usage");
    Usage usage =
        u.isObject() ? new Usage(Math.max(0, Json.count(u, "prompt_tokens")), 0, 0, 0) : null;
    return new ChatResponse(
        "",
        body.path("model").asText(model),
        List.of(new ChatRequest.Text(Json.write(body))),
        FinishReason.STOP,
        usage);
  }
}
