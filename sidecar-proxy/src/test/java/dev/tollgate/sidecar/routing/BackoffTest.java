package dev.tollgate.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void exponentialUpToTheCapPlusJitterBelowTheBase() {
    Duration base = Duration.ofMillis(100);
    Duration cap = Duration.ofMillis(1000);
    for (int i = 0; i < 200; i++) {
      assertThat(Backoff.delay(0, base, cap).toMillis()).isBetween(100L, 199L);
      assertThat(Backoff.delay(2, base, cap).toMillis()).isBetween(400L, 499L);
      assertThat(Backoff.delay(10, base, cap).toMillis()).isBetween(1000L, 1099L);
      assertThat(Backoff.delay(62, base, cap).toMillis()).isBetween(1000L, 1099L);
    }
  }

  @Test
  void providerWaitReadsRetryAfterAndRateLimitResetHeaders() {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    assertThat(Backoff.providerWait(Map.of("retry-after", "3")::get, now)).hasSeconds(3);
    assertThat(Backoff.providerWait(Map.of("retry-after-ms", "250", "retry-after", "1")::get, now))
        .hasMillis(250);
    assertThat(
            Backoff.providerWait(
                Map.of("x-ratelimit-reset-requests", "1m2s", "x-ratelimit-reset-tokens", "20ms")
                    ::get,
                now))
        .hasMillis(62_000);
    assertThat(
            Backoff.providerWait(
                Map.of("anthropic-ratelimit-requests-reset", "2026-01-01T00:00:05Z")::get, now))
        .hasSeconds(5);
    assertThat(Backoff.providerWait(Map.<String, String>of()::get, now)).isNull();
  }
}
