package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.simulator.ProviderSimulator;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One request must not kill the sidecar: bodies that expand many times when parsed (tens of
 * thousands of tiny messages), alone and concurrently, against a sidecar with the container's 96
 * MiB heap. Each gets an answer (200, or 413/503 in the caller's format) and the sidecar stays up.
 */
class MemoryBoundIT {
  private static ProviderSimulator sim;
  private static Path dir;
  private static ChildSidecar sidecar;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    sim = ProviderSimulator.start();
    dir = Files.createTempDirectory("tollgate-memory-it");
    Files.writeString(dir.resolve("openai.key"), "sk-openai-test");
    Files.writeString(dir.resolve("anthropic.key"), "sk-ant-test");
    Path config = dir.resolve("config.yaml");
    Files.writeString(
        config,
        """
        namespace: it
        routes:
          - model: oa
            retry: {attempts: 0}
            tiers:
              - name: main
                targets: [{credential: openai, model: gpt-4o-mini}]
          - model: an
            retry: {attempts: 0}
            tiers:
              - name: main
                targets: [{credential: anthropic, model: claude-3-5-sonnet-20241022}]
        credentials:
          - {name: openai, provider: openai, endpoint: "%s/v1", apiKeyFile: "%s/openai.key"}
          - {name: anthropic, provider: anthropic, endpoint: "%s", apiKeyFile: "%s/anthropic.key"}
        """
            .formatted(sim.baseUrl(), dir, sim.baseUrl(), dir));
    sidecar = ChildSidecar.start(config, Map.of());
  }

  @AfterAll
  static void stop() throws Exception {
    if (sidecar != null) {
      sidecar.close();
    }
    sim.close();
  }

  /** A chat body of {@code n} messages of a few bytes each (about 32 bytes per message). */
  static String tinyMessages(String route, int n) {
    StringBuilder sb = new StringBuilder(n * 32 + 64);
    sb.append("{\"model\":\"").append(route).append("\",\"max_tokens\":5,\"messages\":[");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"role\":\"user\",\"content\":\"hi\"}");
    }
    return sb.append("]}").toString();
  }

  private static HttpResponse<String> post(String path, String body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(sidecar.baseUrl() + path))
            .timeout(Duration.ofSeconds(60))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void assertAnsweredAndUp(List<HttpResponse<String>> answers) throws Exception {
    for (HttpResponse<String> r : answers) {
      assertThat(r.statusCode()).as(r.body()).isIn(200, 413, 503);
      assertThat(r.body()).startsWith("{");
    }
    assertThat(sidecar.alive()).as(sidecar.output()).isTrue();
    HttpResponse<String> small = post("/v1/chat/completions", tinyMessages("oa", 1));
    assertThat(small.statusCode()).isEqualTo(200);
  }

  @Test
  void twoMegabytesOfTinyMessagesLeaveTheSidecarUp() throws Exception {
    String body = tinyMessages("oa", 64_000);
    assertThat(body.length()).isBetween(1_900_000, 2_100_000);
    List<HttpResponse<String>> answers = new ArrayList<>();
    answers.add(post("/v1/chat/completions", body));
    // translated (OpenAI caller to Anthropic): the neutral model and the provider's body too
    answers.add(post("/v1/chat/completions", tinyMessages("an", 64_000)));
    assertAnsweredAndUp(answers);
  }

  @Test
  void concurrentLargeBodiesLeaveTheSidecarUp() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String body = tinyMessages(i % 2 == 0 ? "oa" : "an", 33_000);
      calls.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return post("/v1/chat/completions", body);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    List<HttpResponse<String>> answers = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> c : calls) {
      answers.add(c.get());
    }
    assertAnsweredAndUp(answers);
  }

  @Test
  void manyConcurrentLargeBodiesAreTurnedAwayBeforeTheHeapIsAtRisk() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String body = tinyMessages(i % 2 == 0 ? "oa" : "an", 80_000);
      String path = i % 2 == 0 ? "/v1/chat/completions" : "/v1/messages";
      calls.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return post(path, body);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    List<HttpResponse<String>> answers = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> c : calls) {
      answers.add(c.get());
    }
    assertAnsweredAndUp(answers);
    HttpResponse<String> busy =
        answers.stream().filter(r -> r.statusCode() == 503).findFirst().orElseThrow();
    assertThat(busy.headers().firstValue("retry-after")).contains("1");
    assertThat(busy.body()).contains("too many large request bodies");
  }

  @Test
  void theBodyLimitFollowsTheHeap() throws Exception {
    // 3.5 MB: under the configured default (4 MiB), over what a 96 MiB heap parses safely (3 MiB)
    HttpResponse<String> r = post("/v1/messages", tinyMessages("an", 110_000));
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).contains("\"type\":\"request_too_large\"");
    assertThat(sidecar.alive()).isTrue();
  }
}
