package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.simulator.SimulatorBehavior;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A caller that disconnects in the middle of a stream ("stop generating") still pays for the answer
 * the provider generates: the sidecar reads on for the provider's final usage and meters it.
 */
class AbandonedStreamIT {
  private static TestBed bed;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @BeforeEach
  void slowStream() {
    bed.sim.reset();
    // 40 output tokens at 40/s: the stream lasts a second, the caller leaves after the first event
    bed.sim.behavior(
        SimulatorBehavior.defaults().withTiming(Duration.ZERO, 40).withUsage(12, 40, 0, 0));
  }

  /** Sends a streamed request, reads its first event, and closes the connection. */
  private static void leaveAfterFirstEvent(String path, String body) throws Exception {
    URI base = URI.create(bed.sidecar.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST "
                  + path
                  + " HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                  + "anthropic-version: 2023-06-01\r\ncontent-length: "
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

  private static double tokens(String route, String provider, String model, String type)
      throws Exception {
    return bed.metric(
        "tollgate_tokens_total{model=\"%s\",provider=\"%s\",route=\"%s\",type=\"%s\"}"
            .formatted(model, provider, route, type));
  }

  @Test
  void anOpenAiStreamAbandonedByItsCallerIsMeteredWithTheProvidersFinalUsage() throws Exception {
    leaveAfterFirstEvent(
        "/v1/chat/completions",
        "{\"model\":\"oa\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(tokens("oa", "openai", "gpt-4o-mini", "output")).isEqualTo(40);
              assertThat(tokens("oa", "openai", "gpt-4o-mini", "input")).isEqualTo(12);
            });
  }

  @Test
  void anAnthropicStreamAbandonedByItsCallerIsMeteredWithTheProvidersFinalUsage() throws Exception {
    leaveAfterFirstEvent(
        "/v1/messages",
        "{\"model\":\"an\",\"max_tokens\":100,\"stream\":true,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(tokens("an", "anthropic", "claude-3-5-sonnet-20241022", "output"))
                    .isEqualTo(40));
  }

  @Test
  void anAbandonedStreamWithoutUsageIsMeteredFromEstimatesFlaggedIncomplete() throws Exception {
    bed.sim.behavior(SimulatorBehavior.defaults().withTiming(Duration.ZERO, 40).withoutUsage());
    double incompleteBefore =
        bed.metric(
            "tollgate_usage_incomplete_total{model=\"gpt-4o-mini\",provider=\"openai\",route=\"oa\"}");
    double inputBefore = tokens("oa", "openai", "gpt-4o-mini", "input");
    leaveAfterFirstEvent(
        "/v1/chat/completions",
        "{\"model\":\"oa\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}"
            .formatted("word ".repeat(40)));

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(
                      bed.metric(
                          "tollgate_usage_incomplete_total{model=\"gpt-4o-mini\",provider=\"openai\",route=\"oa\"}"))
                  .isEqualTo(incompleteBefore + 1);
              // 200 characters of message: about 50 tokens by the sidecar's estimate
              assertThat(tokens("oa", "openai", "gpt-4o-mini", "input") - inputBefore)
                  .isEqualTo(50);
            });
  }
}
