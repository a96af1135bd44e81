package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.CredentialSecrets;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.URI;
import java.util.List;
import java.util.function.Supplier;

/**
 * The one builder of a request to a provider: a JSON POST to the adapter's URL with the sidecar's
 * standard headers, the caller's headers a forwarded body needs, and the provider's authentication.
 * It builds a factory, because each attempt on a fresh connection needs a request of its own.
 */
final class ProviderRequest {
  private final URI url;
  private final byte[] body;
  private final HttpHeaders headers = new DefaultHttpHeaders();
  private String secret;

  private ProviderRequest(URI url, byte[] body) {
    this.url = url;
    this.body = body;
  }

  /** A POST of {@code body} to {@code url}, asking for a stream or a whole JSON answer. */
  static ProviderRequest post(URI url, byte[] body, boolean stream, String requestId) {
    ProviderRequest r = new ProviderRequest(url, body);
    HttpHeaders h = r.headers;
    h.set(
        HttpHeaderNames.HOST,
        url.getPort() > 0 ? url.getHost() + ":" + url.getPort() : url.getHost());
    h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    h.set(HttpHeaderNames.ACCEPT, stream ? "text/event-stream" : "application/json");
    h.set(HttpHeaderNames.USER_AGENT, "tollgate-sidecar");
    h.set("x-request-id", requestId);
    h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    return r;
  }

  /**
   * The request of one attempt to {@code t}: its URL and secret, the call's body for it, and the
   * caller's headers a forwarded body needs.
   */
  static ProviderRequest forAttempt(
      CallState call,
      Target t,
      ObjectNode callerBody,
      CredentialSecrets secrets,
      Runnable onMarked) {
    String secret = t.adapter().secret(secrets, t.credential());
    URI url = t.adapter().url(t.credential(), t.model(), call.stream);
    return post(url, body(callerBody, call, t, onMarked), call.stream, call.requestId)
        .forwarding(
            call.callerHeaders, t.passthrough() ? call.callerFormat.forwardedHeaders() : List.of())
        .authenticated(t.adapter(), t.credential(), secret)
        .signed(t.adapter(), t.credential(), secrets);
  }

  URI url() {
    return url;
  }

  /**
   * The body for {@code t}: the caller's forwarded as sent (same format) or translated through the
   * neutral model, then marked for the provider's prompt cache; {@code onMarked} runs when the
   * sidecar added marks.
   */
  static byte[] body(ObjectNode callerBody, CallState call, Target t, Runnable onMarked) {
    ObjectNode body =
        t.passthrough()
            ? t.adapter().forward(callerBody, t.model(), call.stream)
            : t.adapter().encode(call.callerFormat.parseRequest(callerBody), t.model());
    if (PromptCacheMarker.apply(
            call.routeCfg.cache().promptCaching(),
            t.credential().provider(),
            t.model(),
            body,
            callerBody,
            call.format)
        == PromptCacheMarker.Outcome.MARKED) {
      onMarked.run();
    }
    try {
      return Json.MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new ProxyException(ErrorKind.INTERNAL, "cannot write the provider request");
    }
  }

  /** Copies the caller's {@code names} headers that it sent. */
  ProviderRequest forwarding(HttpHeaders caller, List<String> names) {
    for (String n : names) {
      String v = caller.get(n);
      if (v != null) {
        headers.set(n, v);
      }
    }
    return this;
  }

  /** Adds the provider's authentication for {@code credential}. */
  ProviderRequest authenticated(
      ProviderAdapter adapter, CredentialConfig credential, String secret) {
    adapter.authenticate(headers, credential, secret);
    this.secret = secret;
    return this;
  }

  /** The API key the request presents (null for a cloud identity): never shown back. */
  String secret() {
    return secret;
  }

  /** Signs the request as it now is, for providers that sign (Bedrock with IAM credentials). */
  ProviderRequest signed(
      ProviderAdapter adapter, CredentialConfig credential, CredentialSecrets secrets) {
    adapter.sign(headers, url, body, credential, secrets);
    return this;
  }

  /** Lets {@code tracing} add its headers (the W3C trace context of the attempt). */
  ProviderRequest traced(java.util.function.Consumer<HttpHeaders> tracing) {
    tracing.accept(headers);
    return this;
  }

  /**
   * The request, once per connection it is written to. The headers are complete by now and only
   * read from here on (the encoder writes them as they are), so every copy shares them; there are
   * no trailers.
   */
  Supplier<FullHttpRequest> build() {
    String target = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
    return () ->
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1,
            HttpMethod.POST,
            target,
            Unpooled.wrappedBuffer(body),
            headers,
            EmptyHttpHeaders.INSTANCE);
  }
}
