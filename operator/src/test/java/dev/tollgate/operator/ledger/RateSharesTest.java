package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RateSharesTest {
  private static final Instant T0 = Instant.parse("2026-03-15T12:00:00Z");
  private static final Duration TTL = Duration.ofSeconds(6);

  private final SpendLedger ledger = new SpendLedger();
  private final Map<String, Long> sequences = new HashMap<>();
  private final List<ProviderCredential> credentials = List.of(limited("openai", 100, null));

  private static ProviderCredential limited(String name, Integer rpm, Long tpm) {
    ProviderCredential c = Fixtures.credential("ns", name, Provider.OPENAI, "key", "api-key");
    ProviderCredentialSpec.AccountLimits l = new ProviderCredentialSpec.AccountLimits();
    l.setRequestsPerMinute(rpm);
    l.setTokensPerMinute(tpm);
    c.getSpec().setLimits(l);
    return c;
  }

  private ReportReply.CredentialShare report(String pod, String boot, Instant at) {
    long seq = sequences.merge(pod + boot, 1L, Long::sum);
    ReportReply reply =
        Accounting.apply(
            ledger,
            UsageReport.builder("ns", pod, "uid-" + pod, boot, seq, null).build(),
            List.of(),
            credentials,
            at,
            TTL);
    return reply.credentialShares().stream()
        .filter(s -> s.credential().equals("openai"))
        .findFirst()
        .orElseThrow();
  }

  private ReportReply.CredentialShare report(String pod, Instant at) {
    return report(pod, "boot", at);
  }

  /** What the live sidecars hold now, summed. */
  private long held(Instant now) {
    return RateShares.live(ledger, now, TTL).stream()
        .map(k -> ledger.reporters.get(k).rateShares.get("openai"))
        .filter(s -> s != null)
        .mapToLong(s -> s.requestsPerMinute)
        .sum();
  }

  @Test
  void aCredentialLimitedOnlyPerDayIsNamedWithTheLiveCountForTheSidecarsToDivide() {
    ProviderCredential daily = limited("daily", null, null);
    daily.getSpec().getLimits().setTokensPerDay(1_000_000L);
    SpendLedger l = new SpendLedger();
    for (String pod : List.of("a", "b")) {
      Accounting.apply(
          l,
          UsageReport.builder("ns", pod, "uid-" + pod, "boot", 1, null).build(),
          List.of(),
          List.of(daily),
          T0,
          TTL);
    }
    ReportReply reply =
        Accounting.apply(
            l,
            UsageReport.builder("ns", "a", "uid-a", "boot", 2, null).build(),
            List.of(),
            List.of(daily),
            T0.plusSeconds(1),
            TTL);
    assertThat(reply.credentialShares())
        .containsExactly(new ReportReply.CredentialShare("daily", null, null, 2));
  }

  @Test
  void threeSidecarsSplitTheLimitExactly() {
    report("a", T0);
    report("b", T0);
    report("c", T0);
    // the second round: everyone knows the roster
    long a = report("a", T0.plusSeconds(2)).requestsPerMinute();
    long b = report("b", T0.plusSeconds(2)).requestsPerMinute();
    long c = report("c", T0.plusSeconds(2)).requestsPerMinute();
    assertThat(List.of(a, b, c)).containsExactlyInAnyOrder(34L, 33L, 33L);
    assertThat(a + b + c).isEqualTo(100);
    assertThat(report("c", T0.plusSeconds(2)).liveSidecars()).isEqualTo(3);
  }

  @Test
  void aStartingSidecarGetsOnlyWhatTheOthersFreedSoTheSumNeverPassesTheLimit() {
    Instant t = T0;
    for (String p : List.of("a", "b", "c")) {
      report(p, t);
    }
    for (String p : List.of("a", "b", "c")) {
      report(p, t.plusSeconds(1));
    }
    assertThat(held(t.plusSeconds(1))).isEqualTo(100);
    // d starts: everything is held, so it gets nothing yet
    assertThat(report("d", t.plusSeconds(2)).requestsPerMinute()).isZero();
    assertThat(held(t.plusSeconds(2))).isLessThanOrEqualTo(100);
    // the others shrink to a quarter as they report, d grows into what they freed
    for (String p : List.of("a", "b", "c")) {
      assertThat(report(p, t.plusSeconds(3)).requestsPerMinute()).isEqualTo(25);
      assertThat(held(t.plusSeconds(3))).isLessThanOrEqualTo(100);
    }
    assertThat(report("d", t.plusSeconds(4)).requestsPerMinute()).isEqualTo(25);
    assertThat(held(t.plusSeconds(4))).isEqualTo(100);
  }

  @Test
  void aSilentSidecarReleasesItsShareAfterTheTtl() {
    for (int round = 0; round < 2; round++) {
      for (String p : List.of("a", "b", "c")) {
        report(p, T0.plusSeconds(round));
      }
    }
    // c goes silent; a and b keep reporting every 2 s
    Instant t = T0.plusSeconds(1);
    while (t.isBefore(T0.plusSeconds(1).plus(TTL))) {
      t = t.plusSeconds(2);
      report("a", t);
      report("b", t);
      assertThat(held(t)).isLessThanOrEqualTo(100);
    }
    t = t.plusSeconds(2);
    long a = report("a", t).requestsPerMinute();
    long b = report("b", t).requestsPerMinute();
    assertThat(a + b).isEqualTo(100);
    assertThat(report("a", t).liveSidecars()).isEqualTo(2);
  }

  @Test
  void aSidecarThatLeavesReleasesItsShareAtOnce() {
    for (int round = 0; round < 2; round++) {
      for (String p : List.of("a", "b", "c")) {
        report(p, T0.plusSeconds(round));
      }
    }
    long seq = sequences.merge("cboot", 1L, Long::sum);
    ReportReply last =
        Accounting.apply(
            ledger,
            UsageReport.builder("ns", "c", "uid-c", "boot", seq, null).last(true).build(),
            List.of(),
            credentials,
            T0.plusSeconds(2),
            TTL);
    assertThat(last.credentialShares()).isEmpty();
    // well within the TTL, a and b share the account
    assertThat(report("a", T0.plusSeconds(2)).requestsPerMinute()).isEqualTo(50);
    assertThat(report("b", T0.plusSeconds(2)).requestsPerMinute()).isEqualTo(50);
    assertThat(report("b", T0.plusSeconds(2)).liveSidecars()).isEqualTo(2);
  }

  @Test
  void aRestartedSidecarsOldBootNoLongerHoldsAShare() {
    report("a", "boot-1", T0);
    report("b", T0);
    report("a", "boot-1", T0.plusSeconds(1));
    report("b", T0.plusSeconds(1));
    // a's process restarts with a new boot id: the old process is gone at once
    report("a", "boot-2", T0.plusSeconds(2));
    assertThat(report("b", T0.plusSeconds(3)).liveSidecars()).isEqualTo(2);
    assertThat(report("a", "boot-2", T0.plusSeconds(3)).requestsPerMinute()).isEqualTo(50);
  }

  @Test
  void unlimitedDimensionsAndCredentialsHaveNoShare() {
    SpendLedger l = new SpendLedger();
    ReportReply reply =
        Accounting.apply(
            l,
            UsageReport.builder("ns", "a", "uid-a", "boot", 1, null).build(),
            List.of(),
            List.of(
                limited("tokens-only", null, 90_000L),
                Fixtures.credential("ns", "free", Provider.OPENAI, "key", "api-key")),
            T0,
            TTL);
    assertThat(reply.credentialShares())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.credential()).isEqualTo("tokens-only");
              assertThat(s.requestsPerMinute()).isNull();
              assertThat(s.tokensPerMinute()).isEqualTo(90_000L);
            });
  }

  @Test
  void theRemainderGoesToTheFirstSidecarsSoSmallLimitsAreNotLost() {
    assertThat(RateShares.share(2, 0, 3, 0)).isEqualTo(1);
    assertThat(RateShares.share(2, 1, 3, 1)).isEqualTo(1);
    assertThat(RateShares.share(2, 2, 3, 2)).isZero();
  }
}
