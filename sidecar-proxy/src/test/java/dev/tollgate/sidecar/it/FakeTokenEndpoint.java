package dev.tollgate.sidecar.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake OAuth token endpoint on loopback for Google (an ADC file's token_uri) and Entra ID (client
 * credentials with a client assertion): it checks that the form carries the expected refresh token,
 * subject token or client assertion, and hands out an access token with the number of the exchange
 * in it; a wrong one gets the provider's 400/401 error shape.
 */
final class FakeTokenEndpoint implements AutoCloseable {
  private final HttpServer server;
  private final String expectedAssertion;
  private final String tokenPrefix;
  private final AtomicInteger exchanges = new AtomicInteger();
  volatile long expiresIn = 3600;
  volatile Map<String, String> lastForm = Map.of();
  volatile String lastPath;

  FakeTokenEndpoint(String expectedAssertion, String tokenPrefix) throws IOException {
    this.expectedAssertion = expectedAssertion;
    this.tokenPrefix = tokenPrefix;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  int exchanges() {
    return exchanges.get();
  }

  /** The token handed out by exchange {@code n}. */
  String token(int n) {
    return tokenPrefix + n;
  }

  private void handle(HttpExchange ex) throws IOException {
    Map<String, String> form = new HashMap<>();
    for (String pair :
        new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        form.put(
            pair.substring(0, eq),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    lastForm = form;
    lastPath = ex.getRequestURI().getPath();
    // a service-account key's signed JWT grant is taken as is (the key is the test's own)
    boolean jwtGrant = form.containsKey("assertion");
    String presented =
        form.containsKey("subject_token")
            ? form.get("subject_token")
            : form.get("client_assertion");
    if (!jwtGrant && !expectedAssertion.equals(presented)) {
      reply(
          ex,
          401,
          "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS700213: No matching"
              + " federated identity record found for presented assertion\"}");
      return;
    }
    int n = exchanges.incrementAndGet();
    reply(
        ex,
        200,
        "{\"access_token\":\""
            + token(n)
            + "\",\"issued_token_type\":\"urn:ietf:params:oauth:token-type:access_token\","
            + "\"token_type\":\"Bearer\",\"expires_in\":"
            + expiresIn
            + "}");
  }

  private static void reply(HttpExchange ex, int status, String json) throws IOException {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
    ex.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
