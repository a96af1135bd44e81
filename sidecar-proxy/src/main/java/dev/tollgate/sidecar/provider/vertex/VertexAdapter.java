package dev.tollgate.sidecar.provider.vertex;

import static dev.tollgate.sidecar.chat.Capabilities.Feature.CITATIONS;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.DOCUMENT;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.IMAGE;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.RESPONSE_FORMAT;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.TOOL_RESULT_MEDIA;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.Capabilities;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialAuth;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.CredentialSecrets;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;

/**
 * Google Vertex AI: Gemini models through {@code publishers/google} (Gemini's wire format) and
 * Claude models through {@code publishers/anthropic} ({@code rawPredict}, Anthropic's format with
 * the model in the URL). Authenticated with an OAuth access token minted from the credential's
 * service-account key (see {@link VertexTokens}).
 */
public final class VertexAdapter implements ProviderAdapter {
  static final String ANTHROPIC_VERSION = "vertex-2023-10-16";

  private static boolean claude(String model) {
    return model.startsWith("claude");
  }

  @Override
  public ApiFormat nativeFormat() {
    return null;
  }

  private final ProviderAdapter countTokens = new VertexCountTokensAdapter(this);

  private final ProviderAdapter embeddings = new VertexEmbeddingsAdapter(this);

  @Override
  public ProviderAdapter endpoint(ApiFormat format) {
    return switch (format) {
      case ANTHROPIC_COUNT_TOKENS -> countTokens;
      case OPENAI_EMBEDDINGS -> embeddings;
      default -> null;
    };
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    String verb =
        claude(model)
            ? (stream ? ":streamRawPredict" : ":rawPredict")
            : (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    return URI.create(
        publisher(c, claude(model) ? "anthropic" : "google") + "/models/" + model + verb);
  }

  /**
   * The URL of a publisher's models in the credential's project and location, e.g. {@code
   * https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/google}.
   */
  static String publisher(CredentialConfig c, String publisher) {
    String location = c.vertex().location();
    String base =
        c.endpoint() != null
            ? ProviderAdapter.trimSlash(c.endpoint())
            : "global".equals(location)
                ? "https://aiplatform.googleapis.com"
                : "https://" + location + "-aiplatform.googleapis.com";
    return base
        + "/v1/projects/"
        + c.vertex().project()
        + "/locations/"
        + location
        + "/publishers/"
        + publisher;
  }

  static boolean isClaude(String model) {
    return claude(model);
  }

  /**
   * An access token: from Application Default Credentials with {@code gcpWorkloadIdentity} ({@link
   * GoogleIdentity}), else from the credential's service-account key, never the key itself.
   */
  @Override
  public String secret(CredentialSecrets secrets, CredentialConfig credential) {
    if (credential.auth().kind() == CredentialAuth.Kind.GCP_WORKLOAD_IDENTITY) {
      return secrets.identity(credential);
    }
    String token = secrets.accessToken(credential.apiKeyFile());
    if (token == null) {
      throw new ProxyException(
          ErrorKind.MISSING_CREDENTIAL,
          "no Vertex AI access token for credential "
              + credential.name()
              + " yet: its service-account key is missing or invalid, or Google's token"
              + " endpoint is unreachable (see the sidecar's log)");
    }
    return token;
  }

  @Override
  public void authenticate(HttpHeaders h, CredentialConfig c, String accessToken) {
    if (accessToken != null) {
      h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + accessToken);
    }
  }

  /**
   * Gemini on Vertex as Gemini; Claude on Vertex takes images and PDFs inline only (no URL sources
   * there).
   */
  @Override
  public Capabilities capabilities(String model) {
    return claude(model)
        ? Capabilities.of(IMAGE, DOCUMENT, RESPONSE_FORMAT, TOOL_RESULT_MEDIA, CITATIONS)
        : GeminiWire.capabilities(model);
  }

  @Override
  public ObjectNode encode(ChatRequest request, String model) {
    if (!claude(model)) {
      return GeminiWire.encodeRequest(request, model);
    }
    ObjectNode body = AnthropicWire.encodeRequest(request, model);
    body.remove("model");
    body.put("anthropic_version", ANTHROPIC_VERSION);
    return body;
  }

  @Override
  public ObjectNode forward(ObjectNode body, String model, boolean stream) {
    throw new IllegalStateException("Vertex AI calls are always translated");
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    return claude(model) ? AnthropicWire.decodeResponse(body) : GeminiWire.decodeResponse(body);
  }

  @Override
  public StreamDecoder streamDecoder(String model) {
    return claude(model) ? new AnthropicWire.Decoder() : new GeminiWire.Decoder();
  }

  /**
   * Claude models cache what is marked, in Anthropic's format; Gemini models cache on their own.
   */
  @Override
  public PromptCacheMarker.Dialect promptCacheDialect(String model) {
    return model != null && model.toLowerCase(java.util.Locale.ROOT).startsWith("claude")
        ? PromptCacheMarker.Dialect.MESSAGES
        : null;
  }
}
