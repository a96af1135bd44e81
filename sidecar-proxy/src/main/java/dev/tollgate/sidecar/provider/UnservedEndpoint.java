package dev.tollgate.sidecar.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;

/**
 * The adapter of an endpoint a provider does not serve through the sidecar (embeddings at
 * Anthropic, say): the attempt is refused with a 400 that names the endpoint, the provider and what
 * to route there instead, before anything is sent.
 */
public final class UnservedEndpoint implements ProviderAdapter {
  private final String endpoint;
  private final String advice;

  /**
   * @param endpoint the endpoint as the caller called it, e.g. {@code POST /v1/embeddings}
   * @param advice what the route's targets must be instead
   */
  public UnservedEndpoint(String endpoint, String advice) {
    this.endpoint = endpoint;
    this.advice = advice;
  }

  @Override
  public ApiFormat nativeFormat() {
    return null;
  }

  @Override
  public String secret(CredentialSecrets secrets, CredentialConfig credential) {
    return null;
  }

  @Override
  public URI url(CredentialConfig credential, String model, boolean stream) {
    throw new ProxyException(
        ErrorKind.INVALID_REQUEST,
        endpoint
            + " cannot be served by provider "
            + credential.provider().wireName()
            + " (credential "
            + credential.name()
            + ", model "
            + model
            + "): "
            + advice);
  }

  @Override
  public void authenticate(HttpHeaders headers, CredentialConfig credential, String secret) {}

  @Override
  public ObjectNode encode(ChatRequest request, String model) {
    throw new IllegalStateException("never called: url() refuses first");
  }

  @Override
  public ObjectNode forward(ObjectNode callerBody, String model, boolean stream) {
    throw new IllegalStateException("never called: url() refuses first");
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    throw new IllegalStateException("never called: url() refuses first");
  }

  @Override
  public StreamDecoder streamDecoder(String model) {
    throw new IllegalStateException("never called: url() refuses first");
  }
}
