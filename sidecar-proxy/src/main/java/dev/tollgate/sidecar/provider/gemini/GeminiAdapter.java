package dev.tollgate.sidecar.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.Capabilities;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.StreamDecoder;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;

/**
 * Google's Gemini API (generativelanguage.googleapis.com). No caller speaks its format, so calls
 * are always translated; it caches prompts on its own.
 */
public final class GeminiAdapter implements ProviderAdapter {
  private final ProviderAdapter embeddings = new GeminiEmbeddingsAdapter(this);
  private final ProviderAdapter countTokens = new GeminiCountTokensAdapter(this);

  @Override
  public ProviderAdapter endpoint(ApiFormat format) {
    return switch (format) {
      case OPENAI_EMBEDDINGS -> embeddings;
      case ANTHROPIC_COUNT_TOKENS -> countTokens;
      default -> null;
    };
  }

  @Override
  public ApiFormat nativeFormat() {
    return null;
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    return URI.create(
        ProviderAdapter.trimSlash(c.effectiveEndpoint().orElseThrow())
            + GeminiWire.path(model, stream));
  }

  @Override
  public void authenticate(HttpHeaders h, CredentialConfig c, String apiKey) {
    if (apiKey != null) {
      h.set("x-goog-api-key", apiKey);
    }
  }

  @Override
  public Capabilities capabilities(String model) {
    return GeminiWire.capabilities(model);
  }

  @Override
  public ObjectNode encode(ChatRequest request, String model) {
    return GeminiWire.encodeRequest(request, model);
  }

  @Override
  public ObjectNode forward(ObjectNode body, String model, boolean stream) {
    throw new IllegalStateException("no caller speaks Gemini's format");
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    return GeminiWire.decodeResponse(body);
  }

  @Override
  public StreamDecoder streamDecoder(String model) {
    return new GeminiWire.Decoder();
  }
}
