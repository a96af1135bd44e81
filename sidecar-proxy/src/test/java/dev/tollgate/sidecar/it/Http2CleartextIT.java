package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** HTTP/2 cleartext (upgrade from HTTP/1.1), next to HTTP/1.1 on the same port. */
class Http2CleartextIT {
  private static TestBed bed;
  private static final HttpClient H2 =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_2)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  private static HttpResponse<String> post(String body) throws Exception {
    return H2.send(
        HttpRequest.newBuilder(URI.create(bed.url("/v1/chat/completions")))
            .timeout(Duration.ofSeconds(20))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void chatOverHttp2StreamingAndNot() throws Exception {
    // the first request upgrades the connection, the next ones are HTTP/2 streams on it
    HttpResponse<String> first =
        post("{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.body()).contains("t0 t1 t2");

    HttpResponse<String> streamed =
        post(
            "{\"model\":\"an\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(streamed.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(streamed.statusCode()).isEqualTo(200);
    assertThat(streamed.body()).contains("\"content\":\" t7\"").endsWith("data: [DONE]\n\n");

    HttpResponse<String> unknown =
        post("{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(unknown.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).contains("unknown_route");

    HttpResponse<String> tooLarge =
        post(
            "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + "x".repeat(200_000)
                + "\"}]}");
    assertThat(tooLarge.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(
            post("{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void stalledHttp2StreamGets408() throws Exception {
    assertThat(
            post("{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .version())
        .isEqualTo(HttpClient.Version.HTTP_2);
    // a body that sends its first bytes and then nothing more
    java.util.concurrent.Flow.Publisher<java.nio.ByteBuffer> stalled =
        subscriber ->
            subscriber.onSubscribe(
                new java.util.concurrent.Flow.Subscription() {
                  private boolean sent;

                  @Override
                  public void request(long n) {
                    if (!sent) {
                      sent = true;
                      subscriber.onNext(java.nio.ByteBuffer.wrap("{\"model\":".getBytes()));
                    }
                  }

                  @Override
                  public void cancel() {}
                });
    String timeouts =
        "tollgate_errors_total{kind=\"client_timeout\",model=\"\",provider=\"\",route=\"_unknown\"}";
    double before = bed.metric(timeouts);
    java.util.concurrent.CompletableFuture<HttpResponse<String>> pending =
        H2.sendAsync(
            HttpRequest.newBuilder(URI.create(bed.url("/v1/chat/completions")))
                .POST(HttpRequest.BodyPublishers.fromPublisher(stalled, 100))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    // the sidecar answers the stalled stream 408 and resets it; Java's client keeps waiting for
    // its own body to finish, so the sidecar's count is what this test reads
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> bed.metric(timeouts) > before);
    pending.cancel(true);
    assertThat(
            post("{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .statusCode())
        .isEqualTo(200);
  }
}
