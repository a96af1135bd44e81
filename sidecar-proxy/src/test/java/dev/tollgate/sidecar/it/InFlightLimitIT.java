package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.simulator.Fault;
import dev.tollgate.simulator.SimulatorBehavior;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A route's {@code rateLimit.maxInFlight}: calls beyond the cap wait in a bounded queue for a
 * bounded time, then get 429 in the caller's format with Retry-After; every ending frees the slot.
 */
class InFlightLimitIT {
  private static TestBed bed;

  private static final String ROUTE =
      """
        - model: %s
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          rateLimit: %s
          tiers:
            - name: main
              targets: [{credential: openai, model: gpt-4o-mini}]
      """;

  @BeforeAll
  static void start() throws Exception {
    bed =
        TestBed.start(
            ROUTE.formatted("capped", "{maxInFlight: 2, maxQueue: 1, maxQueueWait: 20s}")
                + ROUTE.formatted(
                    "impatient-queue", "{maxInFlight: 1, maxQueue: 5, maxQueueWait: 300ms}")
                + ROUTE.formatted("single", "{maxInFlight: 1}"));
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @BeforeEach
  void slowStreams() {
    bed.sim.reset();
    // 80 output tokens at 40/s: each answer holds its slot about 2 s, so that a loaded machine
    // reaches the next request while the slots are still taken (with 1 s, a pause of that length
    // between the awaits and the next request would have freed a slot and failed the test)
    bed.sim.behavior(
        SimulatorBehavior.defaults().withTiming(Duration.ZERO, 40).withUsage(12, 80, 0, 0));
  }

  private static String body(String route, boolean stream) {
    return "{\"model\":\"%s\",\"stream\":%s,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
        .formatted(route, stream);
  }

  private static CompletableFuture<HttpResponse<String>> async(String path, String body) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return bed.post(path, body, "anthropic-version", "2023-06-01");
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private static double rejected(String route, String reason) throws Exception {
    return bed.metric(
        "tollgate_in_flight_rejected_total{reason=\"%s\",route=\"%s\"}".formatted(reason, route));
  }

  @Test
  void beyondTheCapAndTheQueueACallGets429WithRetryAfterAndTheQueuedOneIsServed() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> first = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      first.add(async("/v1/chat/completions", body("capped", true)));
    }
    // two reach the provider, the third waits in the queue
    await().atMost(Duration.ofSeconds(10)).until(() -> bed.sim.stats().requests() == 2);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> bed.metric("tollgate_in_flight_requests{route=\"capped\"}") == 3);

    HttpResponse<String> refused = bed.post("/v1/chat/completions", body("capped", false));
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.headers().firstValue("retry-after")).contains("1");
    JsonNode error = Json.MAPPER.readTree(refused.body()).path("error");
    assertThat(error.path("type").asText()).isEqualTo("rate_limit_error");
    assertThat(error.path("message").asText()).contains("maxInFlight of 2");
    assertThat(bed.sim.stats().requests()).isEqualTo(2); // the provider never saw a third at once

    // the same refusal in the Anthropic format
    HttpResponse<String> anthropic =
        bed.post(
            "/v1/messages",
            "{\"model\":\"capped\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            "anthropic-version",
            "2023-06-01");
    assertThat(anthropic.statusCode()).isEqualTo(429);
    assertThat(Json.MAPPER.readTree(anthropic.body()).path("error").path("type").asText())
        .isEqualTo("rate_limit_error");
    assertThat(anthropic.headers().firstValue("retry-after")).isPresent();

    for (CompletableFuture<HttpResponse<String>> f : first) {
      HttpResponse<String> r = f.get();
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).endsWith("data: [DONE]\n\n");
    }
    assertThat(bed.sim.stats().requests()).isEqualTo(3);
    assertThat(rejected("capped", "queue_full")).isEqualTo(2);
    assertThat(bed.metric("tollgate_in_flight_requests{route=\"capped\"}")).isZero();
  }

  @Test
  void aQueuedCallGets429WhenNoSlotFreesWithinMaxQueueWait() throws Exception {
    CompletableFuture<HttpResponse<String>> holder =
        async("/v1/chat/completions", body("impatient-queue", true));
    await().atMost(Duration.ofSeconds(10)).until(() -> bed.sim.stats().requests() == 1);

    long t0 = System.nanoTime();
    HttpResponse<String> waited = bed.post("/v1/chat/completions", body("impatient-queue", false));
    assertThat(waited.statusCode()).isEqualTo(429);
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isGreaterThanOrEqualTo(Duration.ofMillis(250));
    assertThat(Json.MAPPER.readTree(waited.body()).path("error").path("message").asText())
        .contains("maxQueueWait");
    assertThat(rejected("impatient-queue", "queue_timeout")).isEqualTo(1);

    assertThat(holder.get().statusCode()).isEqualTo(200);
    assertThat(bed.sim.stats().requests()).isEqualTo(1);
  }

  @Test
  void everyEndingFreesTheSlotErrorsAndAbandonedStreamsIncluded() throws Exception {
    // a provider error ends the call: the slot is free for the next
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
    for (int i = 0; i < 3; i++) {
      assertThat(bed.post("/v1/chat/completions", body("single", false)).statusCode())
          .isGreaterThanOrEqualTo(500);
    }
    slowStreams();
    // a caller leaving a stream: the sidecar drains it for usage, then frees the slot
    leaveAfterFirstEvent(body("single", true));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> bed.metric("tollgate_in_flight_requests{route=\"single\"}") == 0);
    HttpResponse<String> after = bed.post("/v1/chat/completions", body("single", false));
    assertThat(after.statusCode()).isEqualTo(200);
    assertThat(rejected("single", "queue_full")).isZero();
  }

  /** Sends a streamed request, reads its first event, and closes the connection. */
  private static void leaveAfterFirstEvent(String body) throws Exception {
    URI base = URI.create(bed.sidecar.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                  + "content-length: "
                  + bytes.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(bytes);
      out.flush();
      InputStream in = s.getInputStream();
      StringBuilder seen = new StringBuilder();
      while (!seen.toString().contains("data:")) {
        int b = in.read();
        assertThat(b).isNotNegative();
        seen.append((char) b);
      }
    }
  }
}
