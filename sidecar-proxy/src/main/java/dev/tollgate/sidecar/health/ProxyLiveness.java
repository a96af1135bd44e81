package dev.tollgate.sidecar.health;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Whether the proxy answers its own {@code /healthz} on loopback: the liveness that kubelet's probe
 * on the health port stands for. Without it a wedged proxy event loop would still look live,
 * because the health listener runs on an event loop of its own.
 */
final class ProxyLiveness {
  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(TIMEOUT).version(HttpClient.Version.HTTP_1_1).build();
  private final HttpRequest request;

  ProxyLiveness(int proxyPort) {
    this.request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxyPort + "/healthz"))
            .timeout(TIMEOUT)
            .GET()
            .build();
  }

  /** Completes with null when the proxy answered 200, else with what went wrong. */
  CompletableFuture<String> check() {
    return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .handle(
            (response, error) -> {
              if (error != null) {
                return error.getClass().getSimpleName();
              }
              return response.statusCode() == 200 ? null : "HTTP " + response.statusCode();
            });
  }
}
