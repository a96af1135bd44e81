package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.RouteConfig.RetryOn;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private static final RouteConfig.Retry RETRY =
      new RouteConfig.Retry(2, Duration.ofMillis(100), Duration.ofSeconds(1), null);

  @Test
  void providerFailuresAreRetryableAndTheRequestsOwnAreNot() {
    assertThat(RetryPolicy.retryKind(ErrorKind.UPSTREAM_RATE_LIMITED))
        .isEqualTo(RetryOn.RATE_LIMITED);
    for (ErrorKind k :
        List.of(
            ErrorKind.UPSTREAM_ERROR,
            ErrorKind.UPSTREAM_OVERLOADED,
            ErrorKind.UPSTREAM_BAD_RESPONSE,
            ErrorKind.UPSTREAM_STREAM_BROKEN,
            ErrorKind.UPSTREAM_AUTH,
            ErrorKind.MISSING_CREDENTIAL)) {
      assertThat(RetryPolicy.retryKind(k)).as(k.label()).isEqualTo(RetryOn.SERVER_ERROR);
    }
    assertThat(RetryPolicy.retryKind(ErrorKind.UPSTREAM_TIMEOUT)).isEqualTo(RetryOn.TIMEOUT);
    assertThat(RetryPolicy.retryKind(ErrorKind.UPSTREAM_CONNECT))
        .isEqualTo(RetryOn.CONNECTION_ERROR);
    assertThat(RetryPolicy.retryKind(ErrorKind.UPSTREAM_REJECTED)).isNull();
    assertThat(RetryPolicy.retryKind(ErrorKind.INVALID_REQUEST)).isNull();
    assertThat(RetryPolicy.retryKind(ErrorKind.RATE_LIMITED)).isNull();
  }

  @Test
  void aFailureMovesOnOnlyBeforeTheFirstByteWithinTheTotalTimeoutAndWhenTheRouteRetriesIt() {
    assertThat(RetryPolicy.movesOn(ErrorKind.UPSTREAM_ERROR, false, false, RETRY)).isTrue();
    assertThat(RetryPolicy.movesOn(ErrorKind.UPSTREAM_ERROR, true, false, RETRY)).isFalse();
    assertThat(RetryPolicy.movesOn(ErrorKind.UPSTREAM_ERROR, false, true, RETRY)).isFalse();
    assertThat(RetryPolicy.movesOn(ErrorKind.UPSTREAM_REJECTED, false, false, RETRY)).isFalse();
    RouteConfig.Retry onlyTimeouts = new RouteConfig.Retry(2, null, null, List.of(RetryOn.TIMEOUT));
    assertThat(RetryPolicy.movesOn(ErrorKind.UPSTREAM_ERROR, false, false, onlyTimeouts)).isFalse();
    assertThat(RetryPolicy.movesOn(ErrorKind.UPSTREAM_TIMEOUT, false, false, onlyTimeouts))
        .isTrue();
  }

  @Test
  void theListIsRetriedAfterTheBackoffOrTheProvidersWaitUpToTheCap() {
    Duration first = RetryPolicy.retryDelay(0, RETRY, null);
    assertThat(first).isBetween(Duration.ofMillis(100), Duration.ofMillis(200));
    assertThat(RetryPolicy.retryDelay(1, RETRY, Duration.ofMillis(700)))
        .isEqualTo(Duration.ofMillis(700));
    assertThat(RetryPolicy.retryDelay(1, RETRY, Duration.ofSeconds(2)))
        .as("longer than the cap: not waited")
        .isNull();
    assertThat(RetryPolicy.retryDelay(2, RETRY, null)).as("retries spent").isNull();
  }

  @Test
  void theProvidersWaitComesFromItsHeadersElseFromRetryAfter() {
    ProxyException withRetryAfter =
        new ProxyException(ErrorKind.UPSTREAM_RATE_LIMITED, 429, "slow down", "3");
    ProxyException without = new ProxyException(ErrorKind.UPSTREAM_ERROR, "failed");
    Instant now = Instant.now();
    assertThat(RetryPolicy.providerWait(Duration.ofMillis(50), withRetryAfter, now))
        .isEqualTo(Duration.ofMillis(50));
    assertThat(RetryPolicy.providerWait(null, withRetryAfter, now))
        .isEqualTo(Duration.ofSeconds(3));
    assertThat(RetryPolicy.providerWait(null, without, now)).isNull();
  }
}
