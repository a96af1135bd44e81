package dev.tollgate.sidecar.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.StreamDecoder;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;

/**
 * What differs between provider APIs: where a request goes, how it authenticates, how its body is
 * written, and how answers are read. One instance per wire family, stateless.
 */
public interface ProviderAdapter {
  /**
   * The caller format this provider speaks natively, or null (Gemini): same-format calls are
   * forwarded as sent.
   */
  ApiFormat nativeFormat();

  /** The full request URL. */
  URI url(CredentialConfig credential, String model, boolean stream);

  /** Adds authentication and API-version headers; {@code apiKey} may be null (Ollama). */
  void authenticate(HttpHeaders headers, CredentialConfig credential, String apiKey);

  /** The body for a request translated from another format. */
  ObjectNode encode(ChatRequest request, String model);

  /** Adjusts a same-format request forwarded as sent (target model, usage reporting). */
  ObjectNode forward(ObjectNode callerBody, String model, boolean stream);

  /** Reads a whole answer; {@code model} is the target model, for providers that do not echo it. */
  ChatResponse decode(JsonNode body, String model);

  StreamDecoder streamDecoder(String model);

  /** Whether streams come as AWS event-stream frames rather than server-sent events. */
  default boolean eventStream() {
    return false;
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
}
