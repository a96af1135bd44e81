package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What keeps a namespace's ledger from growing with its pods: watermarks that expire soon after a
 * reporter's last report (and not before a resend can arrive), no pod names in the health section,
 * and a compaction that sheds only what status displays.
 */
class LedgerBoundsTest {
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");
  private static final Duration TTL = Duration.ofSeconds(30);
  private static final List<Budget> BUDGETS = List.of(Fixtures.budget("ns", "monthly", "1000"));

  private static UsageReport report(String pod, long seq, boolean last) {
    return UsageReport.builder("ns", pod, "uid-" + pod, "boot", seq, "v1")
        .lines(
            List.of(
                UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                    .requests(1)
                    .inputTokens(10)
                    .outputTokens(5)
                    .costUsd("1.00")
                    .build()))
        .targets(
            List.of(
                new UsageReport.TargetState(
                    "chat", "main", "openai", "gpt-4o", "Closed", 1, 0f, 300, 600, null, null)))
        .last(last)
        .build();
  }

  private static String spent(SpendLedger ledger) {
    return new BigDecimal(ledger.budgets.get("monthly").spent).stripTrailingZeros().toPlainString();
  }

  @Test
  void anEndedReportersWatermarkOutlivesAnyResendThenGoes() {
    SpendLedger ledger = new SpendLedger();
    Accounting.apply(ledger, report("a", 1, true), BUDGETS, NOW, TTL);

    // its final report resent five minutes later (a restarted container's spool) is not counted
    Instant later = NOW.plus(Duration.ofMinutes(5));
    Accounting.apply(ledger, report("a", 1, true), BUDGETS, later, TTL);
    Accounting.forgetOldReporters(ledger, later);
    assertThat(spent(ledger)).isEqualTo("1");
    assertThat(ledger.reporters).containsKey("uid-a/boot");

    // ten minutes after its last report it is forgotten: the ledger does not keep a day of pods
    Accounting.forgetOldReporters(ledger, later.plus(Duration.ofMinutes(10)));
    assertThat(ledger.reporters).isEmpty();
    assertThat(spent(ledger)).isEqualTo("1");
  }

  @Test
  void aSilentReportersWatermarkIsKeptForAnHour() {
    SpendLedger ledger = new SpendLedger();
    Accounting.apply(ledger, report("b", 1, false), BUDGETS, NOW, TTL);

    Accounting.forgetOldReporters(ledger, NOW.plus(Duration.ofMinutes(59)));
    Accounting.apply(ledger, report("b", 1, false), BUDGETS, NOW.plus(Duration.ofMinutes(59)), TTL);
    assertThat(spent(ledger)).isEqualTo("1");

    Accounting.forgetOldReporters(ledger, NOW.plus(Duration.ofMinutes(121)));
    assertThat(ledger.reporters).isEmpty();
  }

  @Test
  void theHealthSectionNamesNoPodAndTheLedgerGrowsByAFewHundredBytesPerSidecar() {
    SpendLedger ledger = new SpendLedger();
    for (int i = 0; i < 1000; i++) {
      Accounting.apply(ledger, report("pod-" + i, 1, false), BUDGETS, NOW, TTL);
    }
    String json = new String(ConfigMapLedgerStore.serialize(ledger));
    assertThat(ledger.health.get("openai/gpt-4o").minutes.values())
        .singleElement()
        .satisfies(c -> assertThat(c).containsExactly(1000, 0));
    assertThat(json.substring(json.indexOf("\"health\""))).doesNotContain("pod-");
    // 1,000 sidecars of one namespace, each with a target snapshot: far below the 512 KiB guard
    assertThat(json.length()).isLessThan(300 * 1000);
  }

  @Test
  void compactionShedsSnapshotsAndSmallCallersButNoWatermarkAllowanceOrTotal() {
    SpendLedger ledger = new SpendLedger();
    Accounting.apply(ledger, report("a", 3, false), BUDGETS, NOW, TTL);
    SpendLedger.BudgetSpend spend = ledger.budgets.get("monthly");
    for (int i = 0; i < 500; i++) {
      SpendLedger.Item item = new SpendLedger.Item();
      item.spent = String.valueOf(i);
      spend.byCaller.put("caller-" + i, item);
    }
    String grant = ledger.reporters.get("uid-a/boot").grants.get("monthly");

    Accounting.compact(ledger);

    SpendLedger.Reporter a = ledger.reporters.get("uid-a/boot");
    assertThat(a.sequence).isEqualTo(3);
    assertThat(a.grants.get("monthly")).isEqualTo(grant);
    assertThat(a.targets).isEmpty();
    assertThat(spend.byCaller).hasSize(Accounting.COMPACT_CALLERS).containsKey("caller-499");
    assertThat(spent(ledger)).isEqualTo("1");
  }

  @Test
  void reportsArePacedBySquareRootOfLiveSidecarsButNotNearALimit() {
    assertThat(Accounting.reportInterval(100, false)).isNull();
    assertThat(Accounting.reportInterval(500, false)).isNull();
    assertThat(Accounting.reportInterval(2_000, false)).isEqualTo(4_000L);
    // 10,000 sidecars: about 9 s, so about 1,100 reports a second instead of 5,000
    assertThat(Accounting.reportInterval(10_000, false)).isEqualTo(8_944L);
    assertThat(Accounting.reportInterval(1_000_000, false)).isEqualTo(10_000L);
    assertThat(Accounting.reportInterval(10_000, true)).isNull();
  }

  @Test
  void aNamespaceNearALimitIsNearItsLimit() {
    SpendLedger ledger = new SpendLedger();
    List<Budget> small = List.of(Fixtures.budget("ns", "monthly", "1.20"));
    Accounting.apply(ledger, report("a", 1, false), small, NOW, TTL);
    assertThat(Accounting.nearLimit(ledger, small)).isTrue();
    assertThat(Accounting.nearLimit(ledger, BUDGETS)).isFalse();
  }

  @Test
  void writesArePacedToTheWriteBudgetSharedByTheActiveNamespaces() {
    Duration base = Duration.ofMillis(500);
    long budget = 512 * 1024;
    // a small namespace alone: written at the flush interval, as before
    assertThat(Accounting.pace(30 * 1024, 1, budget, base)).isEqualTo(base);
    // 100 namespaces of 30 KiB: 5.9 s keeps them within 512 KiB/s (reports do not wait for it)
    assertThat(Accounting.pace(30 * 1024, 100, budget, base)).isEqualTo(Duration.ofMillis(5859));
    // 100 of 100 KiB: capped at 10 s, so status is at most that late
    assertThat(Accounting.pace(100 * 1024, 100, budget, base)).isEqualTo(Duration.ofSeconds(10));
    // 10 of 100 KiB: one write each ~2 s
    assertThat(Accounting.pace(100 * 1024, 10, budget, base)).isEqualTo(Duration.ofMillis(1953));
    // no namespace written lately yet: counted as one
    assertThat(Accounting.pace(100 * 1024, 0, budget, base)).isEqualTo(base);
  }

  @Test
  void theLedgersShareWhatTheJournalLeavesOfTheWriteBudget() {
    long budget = 512 * 1024;
    // 100 namespaces' batches at 319 KiB/s (scale5, 100 x 100): the ledgers get the other 193
    assertThat(Accounting.ledgerBudget(budget, 319 * 1024)).isEqualTo(193 * 1024);
    // so 100 ledgers of 20 KiB are written every ~10 s instead of every 4 s
    assertThat(
            Accounting.pace(
                20 * 1024, 100, Accounting.ledgerBudget(budget, 319 * 1024), Duration.ofSeconds(1)))
        .isEqualTo(Duration.ofMillis(10000));
    // a journal at or over the budget leaves the ledgers a quarter of it, never nothing
    assertThat(Accounting.ledgerBudget(budget, 600 * 1024)).isEqualTo(128 * 1024);
    assertThat(Accounting.ledgerBudget(budget, 0)).isEqualTo(budget);
  }
}
