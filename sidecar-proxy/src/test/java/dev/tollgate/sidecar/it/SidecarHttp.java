package dev.tollgate.sidecar.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Plain HTTP to one sidecar on loopback, as a test sends it: a JSON POST with optional headers, a
 * GET, and one sample read from the Prometheus text of {@code /metrics}. Every request times out
 * after 20 s, so a hung sidecar fails the test instead of stalling the build. One client per
 * sidecar: a pooled connection never outlives the sidecar it was opened to.
 */
final class SidecarHttp {
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String baseUrl;

  SidecarHttp(String baseUrl) {
    this.baseUrl = baseUrl;
  }

  /** POSTs {@code body} as JSON to {@code path}; {@code headers} are name, value pairs. */
  HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl + path))
            .timeout(Duration.ofSeconds(20))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(baseUrl + path))
            .timeout(Duration.ofSeconds(20))
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The value of a metric sample in the Prometheus text, or 0 when absent. */
  double metric(String sample) throws Exception {
    return get("/metrics")
        .body()
        .lines()
        .filter(l -> l.startsWith(sample + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(sample.length() + 1).trim()))
        .findFirst()
        .orElse(0);
  }
}
