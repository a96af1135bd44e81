package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Requests the sidecar must not serve or must refuse in the caller's format (issue #16): a web
 * page's cross-origin POST (no CORS preflight for text/plain, so a browser in the pod, or a
 * DNS-rebinding page, could spend the namespace's budget), and sampling parameters that are not
 * finite numbers (a 500 before).
 */
class HostileCallerIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BODY =
      "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  private static TestBed bed;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(bed.url(path)))
            .timeout(Duration.ofSeconds(20))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aCrossOriginTextPlainPostIsNotServed() throws Exception {
    HttpResponse<String> r =
        post(
            "/v1/chat/completions",
            BODY,
            "Content-Type",
            "text/plain;charset=UTF-8",
            "Origin",
            "https://evil.example");
    assertThat(r.statusCode()).isEqualTo(415);
    assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("application/json");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void aForeignOriginIsRefusedEvenWithJson() throws Exception {
    HttpResponse<String> r =
        post(
            "/v1/chat/completions",
            BODY,
            "Content-Type",
            "application/json",
            "Origin",
            "http://rebound.example:4000");
    assertThat(r.statusCode()).isEqualTo(403);
    HttpResponse<String> anthropic =
        post(
            "/v1/messages",
            "{\"model\":\"an\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            "Content-Type",
            "application/json",
            "Origin",
            "null");
    assertThat(anthropic.statusCode()).isEqualTo(403);
    assertThat(JSON.readTree(anthropic.body()).at("/error/type").asText())
        .isEqualTo("permission_error");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void sdkAndLoopbackCallersAreServed() throws Exception {
    assertThat(post("/v1/chat/completions", BODY, "Content-Type", "application/json").statusCode())
        .isEqualTo(200);
    assertThat(
            post(
                    "/v1/chat/completions",
                    BODY,
                    "Content-Type",
                    "application/json; charset=utf-8",
                    "Origin",
                    "http://localhost:3000")
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void anInfiniteTemperatureIsTheCallersMistake() throws Exception {
    HttpResponse<String> openai =
        post(
            "/v1/chat/completions",
            "{\"model\":\"oa\",\"temperature\":1e999999999,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            "Content-Type",
            "application/json");
    assertThat(openai.statusCode()).isEqualTo(400);
    JsonNode e = JSON.readTree(openai.body()).path("error");
    assertThat(e.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(e.path("message").asText()).contains("temperature");
    HttpResponse<String> anthropic =
        post(
            "/v1/messages",
            "{\"model\":\"an\",\"max_tokens\":5,\"top_p\":-1e999999999,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            "Content-Type",
            "application/json");
    assertThat(anthropic.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(anthropic.body()).at("/error/message").asText()).contains("top_p");
  }
}
