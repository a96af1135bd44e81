package dev.tollgate.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ProviderSimulatorIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static ProviderSimulator sim;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    sim = ProviderSimulator.start();
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @BeforeEach
  void reset() {
    sim.reset();
  }

  private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(sim.baseUrl() + path))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void openAiAnswersWithConfiguredUsage() throws Exception {
    sim.behavior(SimulatorBehavior.defaults().withUsage(100, 5, 20, 0));
    HttpResponse<String> r =
        post(
            "/v1/chat/completions",
            "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            "authorization",
            "Bearer k");

    JsonNode body = JSON.readTree(r.body());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(body.at("/choices/0/message/content").asText()).isEqualTo("t0 t1 t2 t3 t4");
    assertThat(body.at("/usage/prompt_tokens").asInt()).isEqualTo(120);
    assertThat(body.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isEqualTo(20);
    assertThat(sim.stats().outputTokens()).isEqualTo(5);
    assertThat(sim.stats().inputTokens()).isEqualTo(100);
  }

  @Test
  void anthropicStreamsItsEventTypesInOrder() throws Exception {
    HttpResponse<String> r =
        post(
            "/v1/messages",
            "{\"model\":\"claude-3-haiku\",\"max_tokens\":3,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            "x-api-key",
            "k",
            "anthropic-version",
            "2023-06-01");

    assertThat(r.body())
        .containsSubsequence(
            "event: message_start",
            "event: content_block_start",
            "event: content_block_delta",
            "event: content_block_stop",
            "\"stop_reason\":\"max_tokens\"",
            "event: message_stop");
    assertThat(sim.stats().outputTokens()).isEqualTo(3);
  }

  @Test
  void geminiStreamsSseWithUsageMetadata() throws Exception {
    HttpResponse<String> r =
        post(
            "/v1beta/models/gemini-1.5-flash:streamGenerateContent?alt=sse",
            "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]}",
            "x-goog-api-key",
            "k");

    assertThat(r.body()).contains("\"finishReason\":\"STOP\"").contains("usageMetadata");
    assertThat(r.body().split("data: ")).hasSize(9);
  }

  @Test
  void rateLimitsWithRetryAfterAndRejectsMissingKeys() throws Exception {
    sim.behavior(SimulatorBehavior.defaults().withFault(Fault.RATE_LIMITED).withRetryAfter(7));
    HttpResponse<String> r =
        post(
            "/v1/chat/completions",
            "{\"model\":\"m\",\"messages\":[]}",
            "authorization",
            "Bearer k");
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.headers().firstValue("retry-after")).contains("7");

    assertThat(post("/v1/chat/completions", "{\"model\":\"m\"}").statusCode()).isEqualTo(401);
    assertThat(sim.stats().answered()).isZero();
  }

  @Test
  void resetsTheConnectionWhenAsked() {
    sim.behavior(SimulatorBehavior.defaults().withFault(Fault.RESET));
    assertThatThrownBy(
            () ->
                post(
                    "/v1/chat/completions",
                    "{\"model\":\"m\",\"messages\":[]}",
                    "authorization",
                    "Bearer k"))
        .isInstanceOf(IOException.class);
  }
}
