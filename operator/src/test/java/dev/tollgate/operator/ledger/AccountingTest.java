package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AccountingTest {
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");
  private static final Duration TTL = Duration.ofSeconds(30);

  private static UsageReport report(String pod, long seq, String cost) {
    return UsageReport.builder("ns", pod, "uid-" + pod, "boot", seq, null)
        .lines(
            List.of(
                UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                    .requests(1)
                    .inputTokens(10)
                    .outputTokens(5)
                    .costUsd(cost)
                    .build()))
        .build();
  }

  private static List<Budget> budgets(String limit) {
    Budget b = Fixtures.budget("ns", "monthly", limit);
    b.getSpec().setOnExceeded(BudgetSpec.ExceededAction.BLOCK);
    return List.of(b);
  }

  @Test
  void aSequenceIsAppliedOnce() {
    SpendLedger ledger = new SpendLedger();
    Accounting.apply(ledger, report("a", 1, "1.50"), budgets("10"), NOW, TTL);
    ReportReply again = Accounting.apply(ledger, report("a", 1, "1.50"), budgets("10"), NOW, TTL);
    assertThat(again.acknowledgedSequence()).isEqualTo(1);
    assertThat(new BigDecimal(ledger.budgets.get("monthly").spent)).isEqualByComparingTo("1.50");
    Accounting.apply(ledger, report("a", 2, "0.25"), budgets("10"), NOW, TTL);
    assertThat(new BigDecimal(ledger.budgets.get("monthly").spent)).isEqualByComparingTo("1.75");
    assertThat(ledger.routes.get("chat").requests).isEqualTo(2);
    assertThat(ledger.budgets.get("monthly").periodStart).isEqualTo("2026-03-01T00:00:00Z");
  }

  @Test
  void aCredentialTheSidecarCannotPresentCountsAgainstItsHealth() {
    SpendLedger ledger = new SpendLedger();
    // a Bedrock role denied at STS: every attempt failed before reaching the provider
    UsageReport report =
        UsageReport.builder("ns", "a", "uid-a", "boot", 1, null)
            .lines(
                List.of(
                    UsageReport.Line.builder(
                            "chat", "main", "bedrock", "anthropic.claude", "monthly")
                        .costUsd("0")
                        .failedAttempts(Map.of("missing_credential", 4L))
                        .build()))
            .build();

    Accounting.apply(ledger, report, budgets("10"), NOW, TTL);

    long[] health =
        ledger.health.get("bedrock/anthropic.claude").minutes.values().iterator().next();
    assertThat(health).containsExactly(4, 4);
  }

  @Test
  void failedOverAttemptsCountAgainstTheProvidersHealthNotTheRoute() {
    SpendLedger ledger = new SpendLedger();
    // 10 calls served by the fallback; 6 attempts on the primary failed before they moved on.
    UsageReport report =
        UsageReport.builder("ns", "a", "uid-a", "boot", 1, null)
            .lines(
                List.of(
                    UsageReport.Line.builder("chat", "main", "anthropic", "claude", "monthly")
                        .requests(10)
                        .inputTokens(100)
                        .outputTokens(50)
                        .costUsd("0.10")
                        .failovers(6)
                        .build(),
                    UsageReport.Line.builder("chat", "main", "groq", "llama", "monthly")
                        .costUsd("0")
                        .failedAttempts(Map.of("upstream_error", 6L))
                        .build()))
            .build();

    Accounting.apply(ledger, report, budgets("10"), NOW, TTL);

    long[] primary = ledger.health.get("groq/llama").minutes.values().iterator().next();
    long[] fallback = ledger.health.get("anthropic/claude").minutes.values().iterator().next();
    assertThat(primary).containsExactly(6, 6); // six calls to the provider, six provider errors
    assertThat(fallback).containsExactly(10, 0);
    assertThat(ledger.routes.get("chat").requests).isEqualTo(10); // callers made ten calls
    assertThat(ledger.routes.get("chat").errors).isZero(); // and saw no error
  }

  @Test
  void allowancesNeverAddUpToMoreThanWhatRemains() {
    SpendLedger ledger = new SpendLedger();
    List<Budget> budgets = budgets("10");
    // the first sidecar alone gets half of what remains; those that start later still get a share
    assertThat(allowance(Accounting.apply(ledger, report("a", 1, "0"), budgets, NOW, TTL)))
        .isEqualByComparingTo("5");
    assertThat(allowance(Accounting.apply(ledger, report("b", 1, "0"), budgets, NOW, TTL)))
        .isPositive();
    assertThat(allowance(Accounting.apply(ledger, report("c", 1, "0"), budgets, NOW, TTL)))
        .isPositive();
    assertThat(outstanding(ledger)).isLessThanOrEqualTo(remaining(ledger, "10"));
    // each sidecar spends within its allowance and reports: the sum always fits what remains,
    // and the shares even out
    for (int round = 2; round < 6; round++) {
      for (String pod : List.of("a", "b", "c")) {
        BigDecimal spend =
            new BigDecimal(ledger.reporters.get("uid-" + pod + "/boot").grants.get("monthly"))
                .divide(BigDecimal.valueOf(2));
        Accounting.apply(ledger, report(pod, round, spend.toPlainString()), budgets, NOW, TTL);
        assertThat(outstanding(ledger)).isLessThanOrEqualTo(remaining(ledger, "10"));
      }
    }
    assertThat(new BigDecimal(ledger.budgets.get("monthly").spent)).isLessThan(BigDecimal.TEN);
  }

  private static BigDecimal outstanding(SpendLedger ledger) {
    return ledger.reporters.values().stream()
        .map(r -> new BigDecimal(r.grants.getOrDefault("monthly", "0")))
        .reduce(BigDecimal.ZERO, BigDecimal::add);
  }

  private static BigDecimal remaining(SpendLedger ledger, String limit) {
    return new BigDecimal(limit).subtract(new BigDecimal(ledger.budgets.get("monthly").spent));
  }

  @Test
  void aSilentSidecarReleasesItsAllowanceAfterTheTtl() {
    SpendLedger ledger = new SpendLedger();
    List<Budget> budgets = budgets("10");
    Accounting.apply(ledger, report("a", 1, "0"), budgets, NOW, TTL);
    BigDecimal later =
        allowance(Accounting.apply(ledger, report("b", 1, "0"), budgets, NOW.plusSeconds(60), TTL));
    assertThat(later).isEqualByComparingTo("5");
  }

  @Test
  void theReplySaysExceededAtTheLimit() {
    SpendLedger ledger = new SpendLedger();
    ReportReply r = Accounting.apply(ledger, report("a", 1, "10.00"), budgets("10"), NOW, TTL);
    assertThat(r.budgets())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.phase()).isEqualTo("Exceeded");
              assertThat(s.action()).isEqualTo("Block");
              assertThat(new BigDecimal(s.allowanceUsd())).isZero();
            });
  }

  private static BigDecimal allowance(ReportReply r) {
    return new BigDecimal(r.budgets().get(0).allowanceUsd());
  }

  private static UsageReport ending(String pod, String boot, long seq, String cost) {
    UsageReport r = report(pod, seq, cost);
    return UsageReport.builder(r.namespace(), pod, r.podUid(), boot, seq, null)
        .lines(r.lines())
        .last(true)
        .build();
  }

  @Test
  void aLastReportIsAppliedOnceAndReleasesWhatTheProcessHeld() {
    SpendLedger ledger = new SpendLedger();
    List<Budget> budgets = budgets("10");
    // a holds 10/2 = 5; b gets (10 - 5) / 3
    Accounting.apply(ledger, report("a", 1, "0"), budgets, NOW, TTL);
    assertThat(allowance(Accounting.apply(ledger, report("b", 1, "0"), budgets, NOW, TTL)))
        .isEqualByComparingTo("1.666666");

    // a's process ends: its final report counts, it holds nothing, it is no longer live
    ReportReply last = Accounting.apply(ledger, ending("a", "boot", 2, "1.00"), budgets, NOW, TTL);
    assertThat(last.budgets()).isEmpty();
    assertThat(ledger.reporters.get("uid-a/boot").grants).isEmpty();
    assertThat(ledger.reporters.get("uid-a/boot").live(NOW, TTL)).isFalse();
    // the same final report delivered again (by a restarted container) changes nothing
    Accounting.apply(ledger, ending("a", "boot", 2, "1.00"), budgets, NOW, TTL);
    assertThat(new BigDecimal(ledger.budgets.get("monthly").spent)).isEqualByComparingTo("1.00");

    // b now shares what remains with no one: (10 - 1) / 2
    assertThat(allowance(Accounting.apply(ledger, report("b", 2, "0"), budgets, NOW, TTL)))
        .isEqualByComparingTo("4.5");
  }

  @Test
  void targetHealthIsTheLatestSnapshotAndOnlyWhatSaysSomething() {
    SpendLedger ledger = new SpendLedger();
    UsageReport.TargetState called =
        new UsageReport.TargetState(
            "chat", "main", "openai", "gpt-4o", "Closed", 12, 0f, 180, 400, null, null);
    UsageReport.TargetState idle =
        new UsageReport.TargetState(
            "chat", "cheap", "openai", "gpt-4o-mini", "Closed", 0, 0f, -1, -1, null, null);
    UsageReport.TargetState open =
        new UsageReport.TargetState(
            "chat", "main", "groq", "llama", "Open", 0, 100f, -1, -1, "upstream_5xx", null);
    UsageReport r = report("a", 1, "0");
    Accounting.apply(
        ledger,
        UsageReport.builder("ns", "a", "uid-a", "boot", 1, null)
            .lines(r.lines())
            .targets(List.of(called, idle, open))
            .build(),
        budgets("10"),
        NOW,
        TTL);
    assertThat(ledger.reporters.get("uid-a/boot").targets).containsExactly(called, open);

    Accounting.apply(
        ledger,
        UsageReport.builder("ns", "a", "uid-a", "boot", 2, null).targets(List.of(called)).build(),
        budgets("10"),
        NOW,
        TTL);
    assertThat(ledger.reporters.get("uid-a/boot").targets).containsExactly(called);
  }
}
