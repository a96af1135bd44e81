package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A batch's roster (live sidecars and the allowances they hold, counted once per batch and kept up
 * to date report by report) grants exactly what a count over every sidecar per report grants.
 */
class RosterTest {
  private static final Duration TTL = Duration.ofSeconds(30);

  private static UsageReport report(int pod, long seq, String cost, boolean last) {
    return UsageReport.builder("ns", "pod-" + pod, "uid-" + pod, "boot", seq, "v1")
        .lines(
            List.of(
                UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                    .requests(1)
                    .inputTokens(10)
                    .outputTokens(5)
                    .costUsd(cost)
                    .build()))
        .last(last)
        .build();
  }

  @Test
  void aBatchRosterGrantsWhatAFullCountPerReportGrants() {
    Budget b = Fixtures.budget("ns", "monthly", "100");
    b.getSpec().setOnExceeded(BudgetSpec.ExceededAction.BLOCK);
    List<Budget> budgets = List.of(b);
    SpendLedger perReport = new SpendLedger();
    SpendLedger perBatch = new SpendLedger();
    Random random = new Random(17);
    long[] seq = new long[200];
    Instant now = Instant.parse("2026-03-15T12:00:00Z");
    for (int batch = 0; batch < 60; batch++) {
      // some sidecars fall silent past the TTL, some end, most report again
      now = now.plusSeconds(random.nextInt(3) == 0 ? 20 : 1);
      Accounting.Roster roster = Accounting.Roster.of(perBatch, now, TTL);
      List<ReportReply> expected = new ArrayList<>();
      List<ReportReply> actual = new ArrayList<>();
      for (int i = 0; i < 25; i++) {
        int pod = random.nextInt(seq.length);
        boolean last = random.nextInt(20) == 0;
        UsageReport r = report(pod, ++seq[pod], "0.0" + random.nextInt(10), last);
        if (random.nextInt(10) == 0 && seq[pod] > 1) {
          r = report(pod, --seq[pod], "0.05", false); // a resend
        }
        expected.add(Accounting.apply(perReport, r, budgets, List.of(), now, TTL));
        actual.add(Accounting.apply(perBatch, r, budgets, List.of(), now, TTL, roster));
      }
      assertThat(actual).isEqualTo(expected);
    }
    assertThat(ConfigMapLedgerStore.serialize(perBatch))
        .isEqualTo(ConfigMapLedgerStore.serialize(perReport));
  }
}
