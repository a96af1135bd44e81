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
  void tokensPerDayRunOutUntilMidnightUtcAndReportTheFractionUsed() {
    Limiter l = new Limiter(null, null, 1000L);
    assertThat(l.dailyUsedRatio()).isZero();
    assertThat(l.tryTake(600)).isZero();
    l.settle(600, 850); // the answer was longer than reserved
    assertThat(l.dailyUsedRatio()).isEqualTo(0.85);
    java.time.Duration wait = l.tryTake(200);
    java.time.Duration untilMidnight =
        java.time.Duration.between(
            java.time.Instant.now(),
            java.time.LocalDate.now(java.time.ZoneOffset.UTC)
                .plusDays(1)
                .atStartOfDay(java.time.ZoneOffset.UTC)
                .toInstant());
    assertThat(wait).isBetween(untilMidnight.minusSeconds(5), untilMidnight.plusSeconds(5));
    assertThat(l.tryTake(100)).isZero(); // what is left still admits a smaller call
    assertThat(new Limiter(null, 1000L).dailyUsedRatio()).isNaN();
  }

  @Test
  void aCredentialsTokensPerDayAreDividedAmongTheLiveSidecars() {
    RateLimits limits = new RateLimits();
    CredentialConfig c =
        CredentialConfig.builder("acct", ProviderKind.OPENAI)
            .apiKeyFile("/k")
            .limits(new CredentialConfig.Limits(null, null, 3000L))
            .build();
    limits.withholdUnsharedCredentials();
    assertThat(limits.credential(c).tryTake(1)).isPositive(); // no share before the first reply
    limits.shareCredential("acct", null, null, 3);
    Limiter l = limits.credential(c);
    assertThat(l.tryTake(1000)).isZero();
    assertThat(l.tryTake(1)).isPositive(); // 3000 / 3 sidecars
    assertThat(limits.dailyUse())
        .containsExactly(new RateLimits.DailyUse("credential", "acct", 1.0));
  }

  @Test
  void credentialShareReplacesTheConfiguredLimitAtRuntime() {
    RateLimits limits = new RateLimits();
    CredentialConfig c =
        CredentialConfig.builder("acct", ProviderKind.OPENAI)
            .apiKeyFile("/k")
            .limits(new CredentialConfig.Limits(100, null))
            .build();
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

  private static CredentialConfig limited(String name, Integer rpm, Long tpm) {
    return CredentialConfig.builder(name, ProviderKind.OPENAI)
        .apiKeyFile("/k")
        .limits(new CredentialConfig.Limits(rpm, tpm))
        .build();
  }

  private static int take(Limiter l, int tries, long tokens) {
    int taken = 0;
    for (int i = 0; i < tries; i++) {
      if (l.tryTake(tokens).isZero()) {
        taken++;
      }
    }
    return taken;
  }

  @Test
  void aWithheldCredentialAdmitsNothingUntilItsShareArrivesThenAFullShare() {
    RateLimits limits = new RateLimits();
    limits.withholdUnsharedCredentials();
    CredentialConfig c = limited("acct", 90, 30_000L);
    assertThat(take(limits.credential(c), 5, 10)).isZero();
    assertThat(limits.credential(c).tryTake(10)).isPositive();
    // the operator's share: a third of each dimension; the bucket starts full, like a new one
    limits.shareCredential("acct", 30L, 10_000L);
    assertThat(take(limits.credential(c), 50, 10)).isBetween(30, 32);
    // a share of 0 (the others still hold everything) admits nothing again
    limits.shareCredential("acct", 0L, 10_000L);
    assertThat(take(limits.credential(c), 5, 10)).isZero();
  }

  @Test
  void aNullShareDimensionKeepsTheConfiguredLimitAndUnnamedCredentialsGetTheirsBack() {
    RateLimits limits = new RateLimits();
    limits.withholdUnsharedCredentials();
    CredentialConfig a = limited("a", 20, 1000L);
    CredentialConfig b = limited("b", 20, null);
    limits.shareCredential("a", 5L, null);
    limits.shareUnnamedCredentialsFully();
    assertThat(take(limits.credential(a), 30, 0)).isBetween(5, 6);
    // b was not named in the reply: its configured limit
    assertThat(take(limits.credential(b), 30, 0)).isBetween(20, 21);
    // a's tokens: configured 1000, not divided
    RateLimits other = new RateLimits();
    other.shareCredential("a", 5L, null);
    assertThat(other.credential(a).tryTake(1000)).isZero();
  }
}
