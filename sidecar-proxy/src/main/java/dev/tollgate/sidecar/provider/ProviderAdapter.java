package dev.tollgate.sidecar.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.Capabilities;
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
 * Everything that differs between provider APIs: where a request goes, what it presents and how,
 * how its body is written, how answers are framed and read, and how its prompt cache is marked. One
 * stateless instance per provider package, registered in {@link ProviderAdapters}.
 */
public interface ProviderAdapter {
  /**
   * The caller format this provider speaks natively, or null (Gemini): same-format calls are
   * forwarded as sent.
   */
  ApiFormat nativeFormat();

  /**
   * This provider's adapter of a caller endpoint other than chat ({@code format} is embeddings,
   * token counting or Responses), or null when the provider does not serve it natively.
   */
  default ProviderAdapter endpoint(ApiFormat format) {
    return null;
  }

  /** The full request URL. */
  URI url(CredentialConfig credential, String model, boolean stream);

  /**
   * What the call presents to the provider for {@code credential}: its API key by default; null
   * only when the provider needs none (Ollama).
   *
   * @throws ProxyException {@link ErrorKind#MISSING_CREDENTIAL} when it is not available
   */
  default String secret(CredentialSecrets secrets, CredentialConfig credential) {
    if (!credential.auth().usesSecret()) {
      return null; // presented by authenticate or sign from the credential's cloud identity
    }
    String key = secrets.apiKey(credential.apiKeyFile());
    if (key == null && credential.provider().requiresApiKey()) {
      throw new ProxyException(
          ErrorKind.MISSING_CREDENTIAL,
          "the API key of credential "
              + credential.name()
              + " is not available (its Secret file is missing or empty)");
    }
    return key;
  }

  /** Adds authentication and API-version headers; {@code secret} may be null (Ollama). */
  void authenticate(HttpHeaders headers, CredentialConfig credential, String secret);

  /**
   * Signs the finished request, for authentication that covers URL, headers and body (AWS SigV4);
   * runs after {@link #authenticate}. Nothing by default.
   *
   * @throws ProxyException {@link ErrorKind#MISSING_CREDENTIAL} when the identity to sign with is
   *     not available
   */
  default void sign(
      HttpHeaders headers,
      URI url,
      byte[] body,
      CredentialConfig credential,
      CredentialSecrets secrets) {}

  /**
   * What a request translated for {@code model} may carry beyond text and tools (images, documents,
   * structured output); a target lacking what a request needs is skipped for it.
   */
  default Capabilities capabilities(String model) {
    return Capabilities.ALL;
  }

  /** The body for a request translated from another format. */
  ObjectNode encode(ChatRequest request, String model);

  /** Adjusts a same-format request forwarded as sent (target model, usage reporting). */
  ObjectNode forward(ObjectNode callerBody, String model, boolean stream);

  /**
   * Whether a whole answer to a forwarded request is rewritten rather than relayed as sent: the
   * caller then gets {@link #decode}'s answer rendered in its format. False by default; true for an
   * endpoint a provider serves in a shape of its own (Bedrock's token counting, Gemini's
   * embeddings), whose {@link #decode} keeps the caller-format JSON as the answer's text.
   */
  default boolean rewritesAnswer() {
    return false;
  }

  /** Reads a whole answer; {@code model} is the target model, for providers that do not echo it. */
  ChatResponse decode(JsonNode body, String model);

  /**
   * Reads a whole answer with its response headers, for providers that report usage in headers
   * (Bedrock's InvokeModel: {@code X-Amzn-Bedrock-Input-Token-Count}); {@link #decode(JsonNode,
   * String)} by default.
   */
  default ChatResponse decode(JsonNode body, String model, HttpHeaders headers) {
    return decode(body, model);
  }

  StreamDecoder streamDecoder(String model);

  /** How a streamed answer's body is cut into events: server-sent events unless overridden. */
  default StreamFraming streamFraming(int maxEventBytes) {
    return new SseFraming(maxEventBytes);
  }

  /**
   * Where cache marks go in this provider's request body for {@code model}, or null when it takes
   * none (it caches on its own, or the model cannot cache).
   */
  default PromptCacheMarker.Dialect promptCacheDialect(String model) {
    return null;
  }

  /** The provider's error message inside its error body, or null. */
  default String errorMessage(JsonNode body) {
    if (body == null) {
      return null;
    }
    JsonNode m = body.path("error").path("message");
    if (!m.isTextual()) {
      m = body.path("message"); // AWS-style error bodies
    }
    return m.isTextual() ? m.asText() : null;
  }

  /** The endpoint without a trailing slash. */
  static String trimSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}
