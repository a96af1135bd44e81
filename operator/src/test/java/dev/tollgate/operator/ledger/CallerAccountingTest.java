package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.status.CallerQuotaStatus;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CallerAccountingTest {
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");
  private static final Duration TTL = Duration.ofSeconds(30);

  private static List<Budget> budgets() {
    Budget b = Fixtures.budget("ns", "monthly", "100");
    BudgetSpec.CallerQuota q = new BudgetSpec.CallerQuota();
    q.setHeader("x-tollgate-user");
    q.setLimit("1.00");
    b.getSpec().setPerCaller(q);
    return List.of(b, Fixtures.budget("ns", "plain", "100"));
  }

  private static UsageReport report(long seq, UsageReport.CallerSpend... callers) {
    BigDecimal total = BigDecimal.ZERO;
    for (UsageReport.CallerSpend c : callers) {
      total = total.add(new BigDecimal(c.costUsd()));
    }
    return UsageReport.builder("ns", "a", "uid-a", "boot", seq, null)
        .lines(
            List.of(
                UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                    .requests(callers.length)
                    .inputTokens(10)
                    .outputTokens(5)
                    .costUsd(total.toPlainString())
                    .build()))
        .callers(List.of(callers))
        .build();
  }

  private static UsageReport.CallerSpend spend(String caller, String usd) {
    return new UsageReport.CallerSpend("monthly", caller, 1, usd);
  }

  private static ReportReply.BudgetState state(ReportReply reply) {
    return reply.budgets().stream()
        .filter(b -> b.name().equals("monthly"))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void callerSpendIsFoldedOncePerSequenceAndTheReplyListsWhoIsOverQuota() {
    SpendLedger ledger = new SpendLedger();
    UsageReport first = report(1, spend("alice", "0.60"), spend("bob", "0.10"));
    Accounting.apply(ledger, first, budgets(), NOW, TTL);
    ReportReply again = Accounting.apply(ledger, first, budgets(), NOW, TTL);
    assertThat(ledger.budgets.get("monthly").byCaller.get("alice").spent).isEqualTo("0.60");
    assertThat(state(again).callers())
        .containsExactly(
            new ReportReply.CallerTotal("alice", "0.60"),
            new ReportReply.CallerTotal("bob", "0.10"));
    assertThat(state(again).blockedCallers()).isEmpty();

    ReportReply second =
        Accounting.apply(ledger, report(2, spend("alice", "0.40")), budgets(), NOW, TTL);
    assertThat(ledger.budgets.get("monthly").byCaller.get("alice").requests).isEqualTo(2);
    assertThat(state(second).blockedCallers()).containsExactly("alice");
    assertThat(state(second).callers())
        .containsExactly(new ReportReply.CallerTotal("alice", "1.00"));
    // a budget without a quota carries no caller state
    assertThat(second.budgets().stream().filter(b -> b.name().equals("plain")).findFirst())
        .get()
        .satisfies(b -> assertThat(b.blockedCallers()).isEmpty());
    // the caller view never changes the budget's own total
    assertThat(new BigDecimal(ledger.budgets.get("monthly").spent)).isEqualByComparingTo("1.10");
  }

  @Test
  void callerTotalsStartAgainWithThePeriod() {
    SpendLedger ledger = new SpendLedger();
    Accounting.apply(ledger, report(1, spend("alice", "1.00")), budgets(), NOW, TTL);
    ReportReply nextMonth =
        Accounting.apply(
            ledger,
            report(2, spend("alice", "0.10")),
            budgets(),
            Instant.parse("2026-04-01T00:00:01Z"),
            TTL);
    assertThat(state(nextMonth).blockedCallers()).isEmpty();
    assertThat(ledger.budgets.get("monthly").byCaller.get("alice").spent).isEqualTo("0.10");
  }

  @Test
  void spendOfABudgetWithoutAQuotaOrOfAnUnknownBudgetIsNotKeptPerCaller() {
    SpendLedger ledger = new SpendLedger();
    Accounting.apply(
        ledger,
        report(
            1,
            new UsageReport.CallerSpend("plain", "alice", 1, "0.1"),
            new UsageReport.CallerSpend("gone", "alice", 1, "0.1")),
        budgets(),
        NOW,
        TTL);
    assertThat(ledger.budgets.values()).allSatisfy(b -> assertThat(b.byCaller).isEmpty());
  }

  @Test
  void theLedgerKeepsAtMostMaxCallersAndFoldsTheSmallestIntoOther() {
    SpendLedger ledger = new SpendLedger();
    List<UsageReport.CallerSpend> callers = new ArrayList<>();
    for (int i = 1; i <= CallerAccounting.MAX_CALLERS + 10; i++) {
      callers.add(spend("user-" + i, BigDecimal.valueOf(i).movePointLeft(4).toPlainString()));
    }
    Accounting.apply(
        ledger,
        UsageReport.builder("ns", "a", "uid-a", "boot", 1, null).callers(callers).build(),
        budgets(),
        NOW,
        TTL);
    Map<String, SpendLedger.Item> byCaller = ledger.budgets.get("monthly").byCaller;
    assertThat(byCaller).hasSize(CallerAccounting.MAX_CALLERS).doesNotContainKey("user-1");
    // users 1..11 folded: 66 ten-thousandths, 11 requests
    SpendLedger.Item other = byCaller.get(UsageReport.CallerSpend.OTHER);
    assertThat(new BigDecimal(other.spent)).isEqualByComparingTo("0.0066");
    assertThat(other.requests).isEqualTo(11);
    assertThat(byCaller).containsKey("user-12");
    BigDecimal sum =
        byCaller.values().stream()
            .map(i -> new BigDecimal(i.spent))
            .reduce(BigDecimal.ZERO, BigDecimal::add);
    assertThat(sum)
        .isEqualByComparingTo(
            callers.stream()
                .map(c -> new BigDecimal(c.costUsd()))
                .reduce(BigDecimal.ZERO, BigDecimal::add));
  }

  @Test
  void statusListsTheTopTenCallersAndAnnouncesEachCallerOverQuotaOncePerPeriod() {
    SpendLedger ledger = new SpendLedger();
    List<UsageReport.CallerSpend> callers = new ArrayList<>();
    for (int i = 1; i <= 12; i++) {
      callers.add(spend("user-" + i, BigDecimal.valueOf(i).movePointLeft(1).toPlainString()));
    }
    callers.add(spend(UsageReport.CallerSpend.OTHER, "5"));
    Accounting.apply(
        ledger,
        UsageReport.builder("ns", "a", "uid-a", "boot", 1, null).callers(callers).build(),
        budgets(),
        NOW,
        TTL);
    Budget budget = budgets().get(0);
    BudgetStatus status = new BudgetStatus();
    dev.tollgate.operator.status.BudgetSpendStatus.apply(
        budget, status, ledger.budgets.get("monthly"), NOW);
    assertThat(status.getTopCallers())
        .extracting(BudgetStatus.SpendItem::getName)
        .containsExactly(
            "user-12", "user-11", "user-10", "user-9", "user-8", "user-7", "user-6", "user-5",
            "user-4", "user-3");
    assertThat(status.getTopCallers().get(0).getSpent()).isEqualTo("1.20");
    assertThat(status.getCallersOverQuota()).containsExactly("user-10", "user-11", "user-12");
    assertThat(CallerQuotaStatus.newlyOverQuota(null, status))
        .containsExactly("user-10", "user-11", "user-12");

    // the next status of the same period announces only callers that are new over quota
    Accounting.apply(
        ledger,
        UsageReport.builder("ns", "a", "uid-a", "boot", 2, null)
            .callers(List.of(spend("user-9", "0.1")))
            .build(),
        budgets(),
        NOW,
        TTL);
    BudgetStatus next = new BudgetStatus();
    next.setPeriodStart(status.getPeriodStart());
    next.setCallersOverQuota(status.getCallersOverQuota());
    dev.tollgate.operator.status.BudgetSpendStatus.apply(
        budget, next, ledger.budgets.get("monthly"), NOW);
    assertThat(CallerQuotaStatus.newlyOverQuota(status, next)).containsExactly("user-9");

    // the quota is raised: nobody is over it any more, and nobody is announced
    budget.getSpec().getPerCaller().setLimit("1.15");
    BudgetStatus raised = new BudgetStatus();
    raised.setPeriodStart(next.getPeriodStart());
    raised.setCallersOverQuota(next.getCallersOverQuota());
    dev.tollgate.operator.status.BudgetSpendStatus.apply(
        budget, raised, ledger.budgets.get("monthly"), NOW);
    assertThat(raised.getCallersOverQuota()).containsExactly("user-12");
    assertThat(CallerQuotaStatus.newlyOverQuota(next, raised)).isEmpty();
    assertThat(
            state(Accounting.apply(ledger, report(3), List.of(budget), NOW, TTL)).blockedCallers())
        .containsExactly("user-12");
  }
}
