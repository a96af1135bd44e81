package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.status.RouteUsageStatus;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A sidecar's final report ({@code leaving}) ends its liveness at once, not after the TTL. */
class LeavingReporterTest {
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");
  private static final Duration TTL = Duration.ofSeconds(30);

  private static UsageReport report(String pod, long seq, String cost, boolean leaving) {
    return UsageReport.builder("ns", pod, "uid-" + pod, "boot", seq, "v1")
        .lines(
            List.of(
                UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                    .requests(1)
                    .inputTokens(10)
                    .outputTokens(5)
                    .costUsd(cost)
                    .build()))
        .last(leaving)
        .build();
  }

  private static List<Budget> budgets() {
    Budget b = Fixtures.budget("ns", "monthly", "10");
    b.getSpec().setOnExceeded(BudgetSpec.ExceededAction.BLOCK);
    return List.of(b);
  }

  private static BigDecimal allowance(ReportReply r) {
    return new BigDecimal(r.budgets().get(0).allowanceUsd());
  }

  @Test
  void itsAllowanceIsFreeAtOnceItIsNotCountedAndItsFinalReportCountsOnce() {
    SpendLedger ledger = new SpendLedger();
    Accounting.apply(ledger, report("a", 1, "0", false), budgets(), NOW, TTL);
    // two live sidecars: b gets a third of what a did not take (a holds 5 of 10)
    assertThat(allowance(Accounting.apply(ledger, report("b", 1, "0", false), budgets(), NOW, TTL)))
        .isEqualByComparingTo("1.666666");
    Accounting.apply(ledger, report("a", 2, "1.00", true), budgets(), NOW, TTL);
    // a left (spent 1 of its 5): b is alone again a second later, half of the 9 left
    assertThat(
            allowance(
                Accounting.apply(
                    ledger, report("b", 2, "0", false), budgets(), NOW.plusSeconds(1), TTL)))
        .isEqualByComparingTo("4.5");
    // the final report resent (its acknowledgement was lost) is not applied twice
    Accounting.apply(ledger, report("a", 2, "1.00", true), budgets(), NOW.plusSeconds(1), TTL);
    assertThat(new BigDecimal(ledger.budgets.get("monthly").spent)).isEqualByComparingTo("1.00");

    LLMRouteStatus status = new LLMRouteStatus();
    RouteUsageStatus.rollout(status, ledger, "v1", NOW.plusSeconds(1), TTL);
    assertThat(status.getSidecars().getTotal()).isEqualTo(1);
  }
}
