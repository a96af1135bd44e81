package dev.tollgate.sidecar.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * A provider's adapter for an endpoint other than chat (embeddings, token counting, Responses): the
 * call reaches the provider's endpoint of the same API, forwarded as sent, and presents the same
 * credential as the provider's chat calls. Subclasses say where it goes and how its answer reports
 * usage.
 */
public abstract class EndpointAdapter implements ProviderAdapter {
  private final ApiFormat format;

  /** The provider's chat adapter: its secret, authentication, framing and error bodies. */
  protected final ProviderAdapter chat;

  protected EndpointAdapter(ApiFormat format, ProviderAdapter chat) {
    this.format = format;
    this.chat = chat;
  }

  @Override
  public final ApiFormat nativeFormat() {
    return format;
  }

  @Override
  public String secret(CredentialSecrets secrets, CredentialConfig credential) {
    return chat.secret(secrets, credential);
  }

  @Override
  public void authenticate(HttpHeaders headers, CredentialConfig credential, String secret) {
    chat.authenticate(headers, credential, secret);
  }

  /** Signed as the provider's chat calls are (Bedrock with IAM credentials: SigV4). */
  @Override
  public void sign(
      HttpHeaders headers,
      java.net.URI url,
      byte[] body,
      CredentialConfig credential,
      CredentialSecrets secrets) {
    chat.sign(headers, url, body, credential, secrets);
  }

  /** Never called: an endpoint adapter serves its own format only, forwarded as sent. */
  @Override
  public ObjectNode encode(ChatRequest request, String model) {
    throw new ProxyException(ErrorKind.INTERNAL, format + " calls are not translated");
  }

  @Override
  public StreamDecoder streamDecoder(String model) {
    throw new ProxyException(ErrorKind.INVALID_REQUEST, "this endpoint does not stream");
  }

  @Override
  public String errorMessage(JsonNode body) {
    return chat.errorMessage(body);
  }
}
