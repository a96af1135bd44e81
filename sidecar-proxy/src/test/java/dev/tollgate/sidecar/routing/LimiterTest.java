package dev.tollgate.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ProviderKind;
import org.junit.jupiter.api.Test;

class LimiterTest {
  @Test
  void requestsPerMinuteAllowOneMinuteBurstThenAskToWait() {
    Limiter l = new Limiter(60L, null);
    int taken = 0;
    for (int i = 0; i < 100; i++) {
      if (l.tryTake(0).isZero()) {
        taken++;
      }
    }
    // one minute's worth, plus whatever refilled while the loop ran (one per second)
    assertThat(taken).isBetween(60, 62);
    assertThat(l.tryTake(0)).isPositive();
  }

  @Test
  void tokensAreReservedThenSettledOnActualUsage() {
    Limiter l = new Limiter(null, 1000L);
    assertThat(l.tryTake(800)).isZero();
    assertThat(l.tryTake(800)).isPositive();
    l.settle(800, 100); // the answer was short: 700 come back
    assertThat(l.tryTake(800)).isZero();
  }

  @Test
  void credentialShareReplacesTheConfiguredLimitAtRuntime() {
    RateLimits limits = new RateLimits();
    CredentialConfig c =
        new CredentialConfig(
            "acct",
            ProviderKind.OPENAI,
            null,
            "/k",
            null,
            null,
            null,
            new CredentialConfig.Limits(100, null),
            null,
            null,
            null);
    Limiter before = limits.credential(c);
    limits.shareCredential("acct", 10, 0);
    Limiter after = limits.credential(c);
    assertThat(after).isSameAs(before);
    int taken = 0;
    for (int i = 0; i < 50; i++) {
      if (after.tryTake(0).isZero()) {
        taken++;
      }
    }
    assertThat(taken).isBetween(10, 12);
  }
}
