package dev.tollgate.operator.ledger;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Spend by end user, feature tag and workload in the spend ledger, per Budget (this period) and per
 * route (this month): folded from a report in the same ledger write as its lines, so under the same
 * exactly-once watermark (a replayed report adds nothing). A report's workload receives the spend
 * and requests of all its lines; its users and features come from its attribution.
 *
 * <p>Bound: at most {@link #MAX_USERS}, {@link #MAX_FEATURES} and {@link #MAX_WORKLOADS} keys per
 * Budget and per route; beyond that the smallest spenders are folded into {@code _other}, as per
 * caller ({@link CallerAccounting#cap}).
 */
public final class AttributionAccounting {
  public static final int MAX_USERS = 100;
  public static final int MAX_FEATURES = 50;
  public static final int MAX_WORKLOADS = 50;

  /** Keys of each kind a Budget or route keeps when the ledger had to be compacted. */
  static final int COMPACT = 20;

  private AttributionAccounting() {}

  /**
   * Adds {@code report}'s attribution. Call after its lines were added (the Budget's and the
   * route's period are current then).
   */
  static void fold(SpendLedger ledger, List<Budget> budgets, UsageReport report, Instant now) {
    UsageReport.Attribution a = report.attribution();
    if (a == null) {
      return;
    }
    if (a.workload() != null) {
      String workload = a.workload().key();
      for (UsageReport.Line line : report.lines()) {
        BigDecimal cost = cost(line.costUsd());
        SpendLedger.RouteUsage route = ledger.routes.get(line.route());
        if (route != null) {
          route
              .byWorkload
              .computeIfAbsent(workload, k -> new SpendLedger.Item())
              .add(cost, line.requests());
        }
        SpendLedger.BudgetSpend budget = budgetOf(ledger, budgets, line.budget());
        if (budget != null) {
          budget
              .byWorkload
              .computeIfAbsent(workload, k -> new SpendLedger.Item())
              .add(cost, line.requests());
        }
      }
    }
    add(ledger, budgets, a.users(), r -> r.byUser, b -> b.byUser);
    add(ledger, budgets, a.features(), r -> r.byFeature, b -> b.byFeature);
    // a map within its bound costs one size check
    for (SpendLedger.RouteUsage r : ledger.routes.values()) {
      cap(r.byUser, r.byFeature, r.byWorkload);
    }
    for (SpendLedger.BudgetSpend b : ledger.budgets.values()) {
      cap(b.byUser, b.byFeature, b.byWorkload);
    }
  }

  private static void add(
      SpendLedger ledger,
      List<Budget> budgets,
      List<UsageReport.KeySpend> spend,
      Function<SpendLedger.RouteUsage, Map<String, SpendLedger.Item>> ofRoute,
      Function<SpendLedger.BudgetSpend, Map<String, SpendLedger.Item>> ofBudget) {
    for (UsageReport.KeySpend s : spend) {
      BigDecimal cost = cost(s.costUsd());
      SpendLedger.RouteUsage route = ledger.routes.get(s.route());
      if (route != null) {
        ofRoute
            .apply(route)
            .computeIfAbsent(s.key(), k -> new SpendLedger.Item())
            .add(cost, s.requests());
      }
      SpendLedger.BudgetSpend budget = budgetOf(ledger, budgets, s.budget());
      if (budget != null) {
        ofBudget
            .apply(budget)
            .computeIfAbsent(s.key(), k -> new SpendLedger.Item())
            .add(cost, s.requests());
      }
    }
  }

  /**
   * The ledger entry of a known Budget, already in its current period (its lines rolled it), or
   * null: spend of a Budget the namespace does not have is not attributed either.
   */
  private static SpendLedger.BudgetSpend budgetOf(
      SpendLedger ledger, List<Budget> budgets, String name) {
    if (name == null || budgets.stream().noneMatch(b -> b.getMetadata().getName().equals(name))) {
      return null;
    }
    return ledger.budgets.get(name);
  }

  private static void cap(
      Map<String, SpendLedger.Item> users,
      Map<String, SpendLedger.Item> features,
      Map<String, SpendLedger.Item> workloads) {
    CallerAccounting.cap(users, MAX_USERS);
    CallerAccounting.cap(features, MAX_FEATURES);
    CallerAccounting.cap(workloads, MAX_WORKLOADS);
  }

  /** Folds every Budget's and route's keys down to {@link #COMPACT} of each kind. */
  static void compact(SpendLedger ledger) {
    for (SpendLedger.RouteUsage r : ledger.routes.values()) {
      CallerAccounting.cap(r.byUser, COMPACT);
      CallerAccounting.cap(r.byFeature, COMPACT);
      CallerAccounting.cap(r.byWorkload, COMPACT);
    }
    for (SpendLedger.BudgetSpend b : ledger.budgets.values()) {
      CallerAccounting.cap(b.byUser, COMPACT);
      CallerAccounting.cap(b.byFeature, COMPACT);
      CallerAccounting.cap(b.byWorkload, COMPACT);
    }
  }

  private static BigDecimal cost(String usd) {
    return usd == null ? BigDecimal.ZERO : new BigDecimal(usd);
  }
}
