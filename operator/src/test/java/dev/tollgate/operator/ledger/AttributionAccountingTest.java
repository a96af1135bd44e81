package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.status.BudgetSpendStatus;
import dev.tollgate.operator.status.RouteUsageStatus;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AttributionAccountingTest {
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");
  private static final Duration TTL = Duration.ofSeconds(30);
  private static final UsageReport.Workload CHECKOUT =
      new UsageReport.Workload("Deployment", "checkout", "checkout-sa", "api");

  private static List<Budget> budgets() {
    return List.of(Fixtures.budget("ns", "monthly", "100"));
  }

  private static UsageReport.KeySpend key(String key, long requests, String usd) {
    return new UsageReport.KeySpend("chat", "monthly", key, requests, usd);
  }

  private static UsageReport report(
      long seq, String usd, long requests, UsageReport.Attribution attribution) {
    return UsageReport.builder("ns", "checkout-7d9f8b6c5d-x2x4q", "uid-a", "boot", seq, null)
        .lines(
            List.of(
                UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                    .requests(requests)
                    .inputTokens(10)
                    .outputTokens(5)
                    .costUsd(usd)
                    .build()))
        .attribution(attribution)
        .build();
  }

  @Test
  void usersFeaturesAndTheWorkloadAreFoldedOncePerSequenceIntoBudgetAndRoute() {
    SpendLedger ledger = new SpendLedger();
    UsageReport first =
        report(
            1,
            "0.30",
            3,
            new UsageReport.Attribution(
                CHECKOUT,
                List.of(key("alice", 2, "0.20"), key("bob", 1, "0.10")),
                List.of(key("search", 3, "0.30"))));
    Accounting.apply(ledger, first, budgets(), NOW, TTL);
    // the same report again (a retry, a second replica, a journal replay): nothing doubles
    Accounting.apply(ledger, first, budgets(), NOW, TTL);

    SpendLedger.BudgetSpend budget = ledger.budgets.get("monthly");
    assertThat(budget.byUser.get("alice").spent).isEqualTo("0.20");
    assertThat(budget.byFeature.get("search").requests).isEqualTo(3);
    assertThat(budget.byWorkload.get("Deployment/checkout").spent).isEqualTo("0.30");
    SpendLedger.RouteUsage route = ledger.routes.get("chat");
    assertThat(route.byUser.get("bob").requests).isEqualTo(1);
    assertThat(route.byWorkload.get("Deployment/checkout").requests).isEqualTo(3);

    Accounting.apply(
        ledger,
        report(
            2,
            "0.50",
            1,
            new UsageReport.Attribution(CHECKOUT, List.of(key("bob", 1, "0.50")), List.of())),
        budgets(),
        NOW,
        TTL);

    BudgetStatus status = new BudgetStatus();
    BudgetSpendStatus.apply(budgets().get(0), status, ledger.budgets.get("monthly"), NOW);
    assertThat(status.getTopUsers())
        .extracting(BudgetStatus.SpendItem::getName, BudgetStatus.SpendItem::getSpent)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("bob", "0.60"),
            org.assertj.core.groups.Tuple.tuple("alice", "0.20"));
    assertThat(status.getTopFeatures())
        .extracting(BudgetStatus.SpendItem::getName)
        .containsExactly("search");
    assertThat(status.getByWorkload()).hasSize(1);
    assertThat(status.getByWorkload().get(0).getName()).isEqualTo("Deployment/checkout");
    assertThat(status.getByWorkload().get(0).getSpent()).isEqualTo("0.80");
    assertThat(status.getByWorkload().get(0).getRequests()).isEqualTo(4);

    LLMRouteStatus routeStatus = new LLMRouteStatus();
    RouteUsageStatus.apply(routeStatus, ledger.routes.get("chat"));
    assertThat(routeStatus.getUsage().getTopUsers())
        .extracting(BudgetStatus.SpendItem::getName)
        .containsExactly("bob", "alice");
    assertThat(routeStatus.getUsage().getByWorkload().get(0).getRequests()).isEqualTo(4);
  }

  @Test
  void theLedgerKeepsABoundedNumberOfUsersAndStatusLeavesOtherOut() {
    SpendLedger ledger = new SpendLedger();
    long seq = 0;
    // many sidecars each with their own 100 users: the ledger keeps the biggest 100 per budget
    for (int pod = 0; pod < 5; pod++) {
      List<UsageReport.KeySpend> users = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        users.add(key("u" + pod + "-" + i, 1, "0." + String.format("%03d", pod * 100 + i + 1)));
      }
      Accounting.apply(
          ledger,
          report(++seq, "1", 100, new UsageReport.Attribution(null, users, List.of())),
          budgets(),
          NOW,
          TTL);
    }
    SpendLedger.BudgetSpend budget = ledger.budgets.get("monthly");
    assertThat(budget.byUser).hasSizeLessThanOrEqualTo(AttributionAccounting.MAX_USERS);
    assertThat(budget.byUser).containsKey(UsageReport.Attribution.OTHER);
    assertThat(budget.byUser.get(UsageReport.Attribution.OTHER).requests).isEqualTo(401);
    assertThat(budget.byUser).containsKey("u4-99");
    assertThat(ledger.routes.get("chat").byUser)
        .hasSizeLessThanOrEqualTo(AttributionAccounting.MAX_USERS);
    // a report without workload or attribution (an older sidecar) attributes nothing
    assertThat(budget.byWorkload).isEmpty();

    BudgetStatus status = new BudgetStatus();
    BudgetSpendStatus.apply(budgets().get(0), status, budget, NOW);
    assertThat(status.getTopUsers()).hasSize(10);
    assertThat(status.getTopUsers().get(0).getName()).isEqualTo("u4-99");
    assertThat(status.getTopUsers())
        .extracting(BudgetStatus.SpendItem::getName)
        .doesNotContain(UsageReport.Attribution.OTHER);
  }

  @Test
  void aNewPeriodStartsTheAttributionAgain() {
    SpendLedger ledger = new SpendLedger();
    Accounting.apply(
        ledger,
        report(
            1,
            "0.30",
            3,
            new UsageReport.Attribution(CHECKOUT, List.of(key("alice", 3, "0.30")), List.of())),
        budgets(),
        NOW,
        TTL);
    BudgetStatus status = new BudgetStatus();
    BudgetSpendStatus.apply(
        budgets().get(0),
        status,
        ledger.budgets.get("monthly"),
        Instant.parse("2026-04-02T00:00:00Z"));
    assertThat(status.getTopUsers()).isEmpty();
    assertThat(status.getByWorkload()).isEmpty();
  }
}
