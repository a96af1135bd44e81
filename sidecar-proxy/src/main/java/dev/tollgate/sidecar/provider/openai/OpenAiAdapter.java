package dev.tollgate.sidecar.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.Capabilities;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialAuth;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.provider.CredentialSecrets;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.StreamDecoder;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * OpenAI and every provider with an OpenAI-compatible chat-completions API (Groq, Mistral, Cohere's
 * compatibility API, Ollama), Azure OpenAI included. They cache prompts on their own: nothing is
 * marked.
 */
public final class OpenAiAdapter implements ProviderAdapter {
  private final ProviderAdapter embeddings = new OpenAiEmbeddingsAdapter(this);
  private final ProviderAdapter responses = new OpenAiResponsesAdapter(this);
  private final ProviderAdapter completions = new OpenAiCompletionsAdapter(this);

  @Override
  public ProviderAdapter endpoint(ApiFormat format) {
    return switch (format) {
      case OPENAI_EMBEDDINGS -> embeddings;
      case OPENAI_RESPONSES -> responses;
      case OPENAI_COMPLETIONS -> completions;
      default -> null;
    };
  }

  @Override
  public ApiFormat nativeFormat() {
    return ApiFormat.OPENAI;
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    return operation(c, "/chat/completions");
  }

  /**
   * The URL of an operation ({@code /chat/completions}, {@code /embeddings}) of the OpenAI API at
   * {@code c}: under the endpoint, or under the credential's deployment for Azure OpenAI.
   */
  static URI operation(CredentialConfig c, String operation) {
    String base = ProviderAdapter.trimSlash(c.effectiveEndpoint().orElseThrow());
    if (c.provider() == ProviderKind.AZURE_OPENAI) {
      return URI.create(
          base
              + "/openai/deployments/"
              + URLEncoder.encode(c.azure().deployment(), StandardCharsets.UTF_8)
              + operation
              + "?api-version="
              + c.azure().apiVersion());
    }
    return URI.create(base + operation);
  }

  /** With {@code azureWorkloadIdentity}, an Entra ID access token ({@link EntraIdentity}). */
  @Override
  public String secret(CredentialSecrets secrets, CredentialConfig credential) {
    if (credential.auth().kind() == CredentialAuth.Kind.AZURE_WORKLOAD_IDENTITY) {
      return secrets.identity(credential);
    }
    return ProviderAdapter.super.secret(secrets, credential);
  }

  @Override
  public void authenticate(HttpHeaders h, CredentialConfig c, String apiKey) {
    if (apiKey == null) {
      return;
    }
    if (c.auth().kind() == CredentialAuth.Kind.AZURE_WORKLOAD_IDENTITY) {
      h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey); // an Entra ID access token
    } else if (c.provider() == ProviderKind.AZURE_OPENAI) {
      h.set("api-key", apiKey);
    } else {
      h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
    }
  }

  @Override
  public Capabilities capabilities(String model) {
    return OpenAiWire.CAPABILITIES;
  }

  @Override
  public ObjectNode encode(ChatRequest request, String model) {
    return OpenAiWire.encodeRequest(request, model);
  }

  @Override
  public ObjectNode forward(ObjectNode body, String model, boolean stream) {
    body.put("model", model);
    if (stream) {
      // always ask for the usage chunk: metering needs it; it is dropped for callers who did not
      // ask
      JsonNode so = body.get("stream_options");
      ObjectNode opts = so instanceof ObjectNode o ? o : body.putObject("stream_options");
      opts.put("include_usage", true);
    }
    return body;
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    return OpenAiWire.decodeResponse(body);
  }

  @Override
  public StreamDecoder streamDecoder(String model) {
    return new OpenAiWire.Decoder();
  }
}
