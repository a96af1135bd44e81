package dev.tollgate.sidecar.server;

import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * Keeps web pages from spending through the sidecar. The sidecar listens on the pod's loopback and
 * injects the namespace's API key, so anything that can make a request to 127.0.0.1 from inside the
 * pod can spend; a browser running in the pod (a headless test browser, a rendering service) or a
 * DNS-rebinding page can, too: a cross-origin {@code text/plain} POST needs no CORS preflight. The
 * official SDKs send {@code Content-Type: application/json} and no {@code Origin} header, so a
 * model call whose Content-Type is set must be JSON (a body without one is parsed as JSON, as
 * before: clients such as curl scripts send none, and a browser's cross-origin request always
 * carries an Origin), and an Origin header must be a loopback one.
 */
final class BrowserGuard {
  private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "[::1]", "::1");

  private BrowserGuard() {}

  /** Why a model call with {@code headers} is refused, or null when it is acceptable. */
  static ProxyException problem(HttpHeaders headers) {
    String type = headers.get(HttpHeaderNames.CONTENT_TYPE);
    String mediaType = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    if (type != null && !mediaType.equals("application/json")) {
      return new ProxyException(
          ErrorKind.UNSUPPORTED_MEDIA_TYPE,
          "send the request body as JSON with Content-Type: application/json (got "
              + truncate(type)
              + ")");
    }
    String origin = headers.get(HttpHeaderNames.ORIGIN);
    if (origin != null && !loopback(origin)) {
      return new ProxyException(
          ErrorKind.FORBIDDEN_ORIGIN,
          "requests from web pages of other origins are refused (Origin: "
              + truncate(origin)
              + "); call the sidecar from the pod's own processes");
    }
    return null;
  }

  private static boolean loopback(String origin) {
    try {
      URI uri = URI.create(origin.trim());
      String host = uri.getHost();
      return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          && host != null
          && LOOPBACK.contains(host.toLowerCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return false; // "null" (sandboxed frames, file pages) and anything unparseable
    }
  }

  private static String truncate(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }
}
