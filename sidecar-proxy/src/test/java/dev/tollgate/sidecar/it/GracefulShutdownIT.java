package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.simulator.SimulatorBehavior;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** SIGTERM: stop accepting, let the streams in flight finish, then close. */
class GracefulShutdownIT {
  @Test
  void streamsInFlightFinishAfterShutdownStarts() throws Exception {
    TestBed bed = TestBed.start();
    try {
      // 20 tokens at 40/s: the stream lasts about half a second
      bed.sim.behavior(
          SimulatorBehavior.defaults().withTiming(Duration.ZERO, 40).withUsage(10, 20, 0, 0));
      CompletableFuture<HttpResponse<String>> inFlight =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return bed.post(
                      "/v1/chat/completions",
                      "{\"model\":\"oa\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> bed.sim.stats().answered() == 1);

      bed.sidecar.shutdown(Duration.ofSeconds(10));

      HttpResponse<String> r = inFlight.get();
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("t19").endsWith("data: [DONE]\n\n");
      assertThatThrownBy(() -> bed.get("/healthz")).isInstanceOf(IOException.class);
    } finally {
      bed.sim.close();
    }
  }
}
