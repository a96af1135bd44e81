package dev.tollgate.sidecar.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.Capabilities;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.StreamDecoder;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;

/** Anthropic's Messages API; every model caches what the request marks with cache_control. */
public final class AnthropicAdapter implements ProviderAdapter {
  private final ProviderAdapter countTokens = new AnthropicCountTokensAdapter(this);

  @Override
  public ProviderAdapter endpoint(ApiFormat format) {
    return format == ApiFormat.ANTHROPIC_COUNT_TOKENS ? countTokens : null;
  }

  @Override
  public ApiFormat nativeFormat() {
    return ApiFormat.ANTHROPIC;
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    return URI.create(
        ProviderAdapter.trimSlash(c.effectiveEndpoint().orElseThrow()) + "/v1/messages");
  }

  @Override
  public void authenticate(HttpHeaders h, CredentialConfig c, String apiKey) {
    if (apiKey != null) {
      h.set("x-api-key", apiKey);
    }
    if (!h.contains("anthropic-version")) {
      h.set("anthropic-version", AnthropicWire.API_VERSION);
    }
  }

  /** Messages takes media inline and by URL and has no log probabilities. */
  @Override
  public Capabilities capabilities(String model) {
    return AnthropicWire.CAPABILITIES;
  }

  @Override
  public ObjectNode encode(ChatRequest request, String model) {
    return AnthropicWire.encodeRequest(request, model);
  }

  @Override
  public ObjectNode forward(ObjectNode body, String model, boolean stream) {
    return body.put("model", model);
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    return AnthropicWire.decodeResponse(body);
  }

  @Override
  public StreamDecoder streamDecoder(String model) {
    return new AnthropicWire.Decoder();
  }

  @Override
  public PromptCacheMarker.Dialect promptCacheDialect(String model) {
    return PromptCacheMarker.Dialect.MESSAGES;
  }
}
