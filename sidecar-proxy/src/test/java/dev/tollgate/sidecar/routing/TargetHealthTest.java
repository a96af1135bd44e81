package dev.tollgate.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.sidecar.config.RouteConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TargetHealthTest {
  /**
   * A cooldown of 1 s: long enough that the refusal right after the circuit opens is not the
   * half-open probe on a loaded machine (200 ms was), short enough for the probe to come soon.
   */
  private static TargetHealth health() {
    return new TargetHealth(
        "r",
        "main",
        "c",
        "openai",
        "m",
        new RouteConfig.CircuitBreaker(
            10, Duration.ofSeconds(2), Duration.ofSeconds(60), 10, Duration.ofSeconds(1)));
  }

  @Test
  void opensAboveTheErrorRateThenProbesWithOneRequestAndCloses() {
    TargetHealth h = health();
    for (int i = 0; i < 9; i++) {
      assertThat(h.tryAcquire()).isTrue();
      h.succeeded(Duration.ofMillis(100));
    }
    assertThat(h.tryAcquire()).isTrue();
    h.failed(Duration.ofMillis(5), "upstream_error");
    // 1 in 10 is not above 10%
    assertThat(h.state()).isEqualTo(CircuitState.CLOSED);
    assertThat(h.tryAcquire()).isTrue();
    h.failed(Duration.ofMillis(5), "upstream_error");
    assertThat(h.state()).isEqualTo(CircuitState.OPEN);
    assertThat(h.tryAcquire()).isFalse();
    assertThat(h.snapshot().lastError()).isEqualTo("upstream_error");

    await().atMost(Duration.ofSeconds(5)).until(h::tryAcquire); // the half-open probe
    assertThat(h.state()).isEqualTo(CircuitState.HALF_OPEN);
    assertThat(h.tryAcquire()).as("only one probe at a time").isFalse();
    h.succeeded(Duration.ofMillis(100));
    assertThat(h.state()).isEqualTo(CircuitState.CLOSED);
  }

  @Test
  void slowFirstTokensAboveP95OpenTheCircuit() {
    TargetHealth h = health();
    for (int i = 0; i < 20; i++) {
      h.tryAcquire();
      h.succeeded(Duration.ofMillis(i < 18 ? 100 : 3000));
    }
    assertThat(h.state()).isEqualTo(CircuitState.OPEN);
    TargetHealthSnapshot s = h.snapshot();
    assertThat(s.ttftP50Millis()).isEqualTo(100);
    assertThat(s.ttftP95Millis()).isEqualTo(3000);
  }
}
