package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.Fault;
import dev.tollgate.simulator.SimulatorBehavior;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Failures where the call should move on at once, or retry, rather than hang or give up. */
class FastFailoverIT {
  private static TestBed bed;
  private static ServerSocket hugeHeaders;
  private static Sidecar failover;

  @BeforeAll
  static void start() throws Exception {
    hugeHeaders = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(FastFailoverIT::answerWithHugeHeaders, "huge-headers");
    t.setDaemon(true);
    t.start();
    bed =
        TestBed.start(
            """
              - model: lonely-retry
                retry: {attempts: 2, backoffBase: 10ms, backoffCap: 50ms}
                circuitBreaker: {minRequests: 2, errorRatePercent: 50, window: 30s, cooldown: 1h}
                tiers:
                  - name: main
                    targets: [{credential: openai, model: gpt-4o-mini}]
            """);
    Path config = bed.dir.resolve("failover.yaml");
    Files.writeString(
        config,
        """
        namespace: it
        routes:
          - model: first-broken
            tiers:
              - name: main
                targets: [{credential: huge-headers, model: gpt-4o-mini}]
                fallbacks: [{credential: openai, model: gpt-4o-mini}]
        credentials:
          - {name: huge-headers, provider: openai-compatible, endpoint: "http://127.0.0.1:%d/v1", apiKeyFile: "%s/openai.key"}
          - {name: openai, provider: openai, endpoint: "%s/v1", apiKeyFile: "%s/openai.key"}
        """
            .formatted(hugeHeaders.getLocalPort(), bed.dir, bed.sim.baseUrl(), bed.dir));
    failover = Sidecar.start(config, 0, 1, Duration.ofMillis(200));
  }

  /** Answers every request with a 200 whose one header is 10 KB: over Netty's 8 KiB default. */
  private static void answerWithHugeHeaders() {
    while (!hugeHeaders.isClosed()) {
      try (Socket s = hugeHeaders.accept()) {
        s.getInputStream().read(new byte[65536]);
        String head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-padding: "
                + "a".repeat(10_000)
                + "\r\ncontent-length: 2\r\n\r\n{}";
        s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        // keep the connection open, as a provider would: only the decoder's failure ends it
        Thread.sleep(30_000);
      } catch (Exception e) {
        // closed
      }
    }
  }

  @AfterAll
  static void stop() throws Exception {
    failover.shutdown(Duration.ZERO);
    hugeHeaders.close();
    bed.close();
  }

  @Test
  void aResponseHeaderOverTheLimitFailsOverAtOnce() throws Exception {
    HttpResponse<String> r =
        bed.http.send(
            HttpRequest.newBuilder(URI.create(failover.baseUrl() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(chat("first-broken")))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-tollgate-failovers")).contains("1");
    assertThat(r.headers().firstValue("x-tollgate-provider")).contains("openai");
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static String chat(String route) {
    return "{\"model\":\"" + route + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  }

  @Test
  void retriesStillHappenWhenTheOnlyTargetsCircuitIsOpen() throws Exception {
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
    while (bed.metric(
            "tollgate_circuit_state{model=\"gpt-4o-mini\",provider=\"openai\",route=\"lonely-retry\"}")
        != 1) {
      assertThat(bed.post("/v1/chat/completions", chat("lonely-retry")).statusCode())
          .isEqualTo(502);
    }
    long before = bed.sim.stats().requests();

    assertThat(bed.post("/v1/chat/completions", chat("lonely-retry")).statusCode()).isEqualTo(502);

    // the panic attempt and both retries reached the provider
    assertThat(bed.sim.stats().requests() - before).isEqualTo(3);
  }

  @Test
  void aCallerTricklingItsHeadersIsCutAfterTheReadTimeout() throws Exception {
    URI base = URI.create(bed.sidecar.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(5_000);
      OutputStream out = s.getOutputStream();
      out.write(
          "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      // one header byte every 100 ms, never finishing: the bed's read timeout is 500 ms
      byte[] answer = new byte[0];
      for (int i = 0; i < 40 && answer.length == 0; i++) {
        try {
          out.write('x');
          out.flush();
        } catch (java.io.IOException closed) {
          break;
        }
        Thread.sleep(100);
        if (s.getInputStream().available() > 0) {
          answer = s.getInputStream().readNBytes(s.getInputStream().available());
        }
      }
      if (answer.length == 0) {
        answer = s.getInputStream().readNBytes(12);
      }
      assertThat(new String(answer, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 408");
    }
  }
}
