package dev.tollgate.operator.ledger;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Per-caller quotas in the spend ledger: folds the caller spend of a report into its Budgets'
 * per-caller totals for the period (in the same ledger write as the rest of the report, so under
 * the same exactly-once watermark), keeps those totals bounded, and tells the reporting sidecar who
 * is over quota.
 *
 * <p>Bound: a Budget keeps at most {@link #MAX_CALLERS} keys per period. Beyond that the smallest
 * spenders are folded into {@link UsageReport.CallerSpend#OTHER}, which is never limited: a caller
 * folded away starts again from zero in the ledger (only a namespace with more than that many
 * paying callers in one period sees this; the budget itself still holds).
 */
public final class CallerAccounting {
  /** Caller keys a Budget keeps per period (the {@code _other} bucket included). */
  public static final int MAX_CALLERS = 1000;

  private CallerAccounting() {}

  /** Adds a report's caller spend to the period totals of the Budgets it names. */
  static void fold(SpendLedger ledger, List<Budget> budgets, UsageReport report, Instant now) {
    Set<SpendLedger.BudgetSpend> touched = Collections.newSetFromMap(new IdentityHashMap<>());
    for (UsageReport.CallerSpend c : report.callers()) {
      Budget budget = quotaBudget(budgets, c.budget());
      if (budget == null || c.caller() == null) {
        // the spend counts for the budget through the report's lines; only the caller is unknown
        continue;
      }
      SpendLedger.BudgetSpend spend =
          ledger.budgets.computeIfAbsent(c.budget(), n -> new SpendLedger.BudgetSpend());
      BudgetPeriods.roll(spend, budget.getSpec().getPeriod(), now);
      BigDecimal cost = c.costUsd() == null ? BigDecimal.ZERO : new BigDecimal(c.costUsd());
      spend
          .byCaller
          .computeIfAbsent(c.caller(), k -> new SpendLedger.Item())
          .add(cost, c.requests());
      touched.add(spend);
    }
    // once per report, not per caller: a full table is sorted once
    touched.forEach(spend -> cap(spend.byCaller));
  }

  /** Folds the smallest spenders into {@code _other} until at most {@link #MAX_CALLERS} remain. */
  static void cap(Map<String, SpendLedger.Item> byCaller) {
    cap(byCaller, MAX_CALLERS);
  }

  /** Folds the smallest spenders into {@code _other} until at most {@code max} remain. */
  static void cap(Map<String, SpendLedger.Item> byCaller, int max) {
    if (byCaller.size() <= max) {
      return;
    }
    List<Map.Entry<String, SpendLedger.Item>> smallest =
        byCaller.entrySet().stream()
            .filter(e -> !e.getKey().equals(UsageReport.CallerSpend.OTHER))
            .sorted(
                Comparator.comparing(
                        (Map.Entry<String, SpendLedger.Item> e) ->
                            new BigDecimal(e.getValue().spent))
                    .thenComparing(Map.Entry::getKey))
            .toList();
    SpendLedger.Item other =
        byCaller.computeIfAbsent(UsageReport.CallerSpend.OTHER, k -> new SpendLedger.Item());
    int excess = byCaller.size() - max;
    for (int i = 0; i < excess && i < smallest.size(); i++) {
      Map.Entry<String, SpendLedger.Item> e = smallest.get(i);
      other.add(new BigDecimal(e.getValue().spent), e.getValue().requests);
      byCaller.remove(e.getKey());
    }
  }

  /** Callers of {@code spend} whose period spend reached the quota's limit, by key. */
  public static List<String> overQuota(
      SpendLedger.BudgetSpend spend, BudgetSpec.CallerQuota quota) {
    if (spend == null || quota == null || quota.getLimit() == null) {
      return List.of();
    }
    BigDecimal limit = new BigDecimal(quota.getLimit());
    return spend.byCaller.entrySet().stream()
        .filter(e -> !e.getKey().equals(UsageReport.CallerSpend.OTHER))
        .filter(e -> new BigDecimal(e.getValue().spent).compareTo(limit) >= 0)
        .map(Map.Entry::getKey)
        .sorted()
        .toList();
  }

  /**
   * {@code state} with the callers over quota and the period spend of each caller {@code report}
   * carried for {@code budget}.
   */
  static ReportReply.BudgetState withCallers(
      ReportReply.BudgetState state, SpendLedger ledger, Budget budget, UsageReport report) {
    BudgetSpec.CallerQuota quota = budget.getSpec().getPerCaller();
    if (quota == null) {
      return state;
    }
    String name = budget.getMetadata().getName();
    SpendLedger.BudgetSpend spend = ledger.budgets.get(name);
    List<ReportReply.CallerTotal> totals = new ArrayList<>();
    if (spend != null) {
      for (UsageReport.CallerSpend c : report.callers()) {
        SpendLedger.Item item = name.equals(c.budget()) ? spend.byCaller.get(c.caller()) : null;
        if (item != null && !UsageReport.CallerSpend.OTHER.equals(c.caller())) {
          totals.add(new ReportReply.CallerTotal(c.caller(), item.spent));
        }
      }
    }
    return new ReportReply.BudgetState(
        state.name(),
        state.phase(),
        state.action(),
        state.allowanceUsd(),
        state.percentUsed(),
        overQuota(spend, quota),
        totals);
  }

  private static Budget quotaBudget(List<Budget> budgets, String name) {
    if (name == null) {
      return null;
    }
    return budgets.stream()
        .filter(b -> b.getMetadata().getName().equals(name))
        .filter(b -> b.getSpec().getPerCaller() != null)
        .findFirst()
        .orElse(null);
  }
}
