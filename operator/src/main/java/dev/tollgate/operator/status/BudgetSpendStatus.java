package dev.tollgate.operator.status;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.operator.ledger.BudgetPeriods;
import dev.tollgate.operator.ledger.SpendLedger;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Projects a Budget's entry of the spend ledger onto its status: period, spent, remaining, percent,
 * phase, projection, breakdowns, history, thresholds reached and the Warning/Exceeded conditions.
 */
public final class BudgetSpendStatus {
  private BudgetSpendStatus() {}

  /**
   * Writes the spend fields into {@code status} (a fresh copy) from {@code recorded} (null: nothing
   * spent yet).
   *
   * @return the thresholds newly reached in this period, to announce once each
   */
  public static List<Integer> apply(
      Budget budget, BudgetStatus status, SpendLedger.BudgetSpend recorded, Instant now) {
    SpendLedger.BudgetSpend spend = copy(recorded);
    // the ledger rolls a period over only when a report arrives; status must not show last
    // month's spend as this month's in between
    BudgetPeriods.roll(spend, budget.getSpec().getPeriod(), now);
    BigDecimal limit = new BigDecimal(budget.getSpec().getLimit());
    BigDecimal spent = spend.spentUsd();
    List<Integer> alerts = BudgetPeriods.alerts(budget.getSpec());
    BudgetPeriods.Period period =
        new BudgetPeriods.Period(Instant.parse(spend.periodStart), Instant.parse(spend.periodEnd));
    boolean samePeriod = spend.periodStart.equals(status.getPeriodStart());
    List<Integer> before =
        samePeriod && status.getAlertsFired() != null ? status.getAlertsFired() : List.of();
    List<Integer> reached = BudgetPeriods.crossed(spent, limit, alerts);
    List<Integer> fresh = reached.stream().filter(a -> !before.contains(a)).toList();
    List<Integer> fired = new ArrayList<>(before);
    fresh.forEach(fired::add);
    fired.sort(Comparator.naturalOrder());

    status.setPeriodStart(spend.periodStart);
    status.setPeriodEnd(spend.periodEnd);
    status.setSpent(money(spent));
    status.setRemaining(money(limit.subtract(spent).max(BigDecimal.ZERO)));
    status.setPercentUsed(BudgetPeriods.percent(spent, limit).toPlainString());
    BudgetStatus.Phase phase = BudgetPeriods.phase(spent, limit, alerts);
    status.setPhase(phase);
    status.setProjected(money(BudgetPeriods.projected(spent, period, now)));
    status.setAlertsFired(fired);
    status.setByRoute(items(spend.byRoute));
    status.setByModel(items(spend.byModel));
    status.setBatchSpent(spend.batchSpent == null ? null : money(new BigDecimal(spend.batchSpent)));
    status.setByEndpoint(items(spend.byEndpoint));
    CallerQuotaStatus.apply(budget, status, spend);
    status.setTopUsers(top(spend.byUser));
    status.setTopFeatures(top(spend.byFeature));
    status.setByWorkload(top(spend.byWorkload));
    status.setHistory(
        spend.history.stream()
            .map(
                h -> {
                  BudgetStatus.PeriodTotal t = new BudgetStatus.PeriodTotal();
                  t.setPeriodStart(h.periodStart());
                  t.setPeriodEnd(h.periodEnd());
                  t.setSpent(money(new BigDecimal(h.spent())));
                  return t;
                })
            .toList());
    Long generation = budget.getMetadata().getGeneration();
    String pct = status.getPercentUsed();
    status.setConditions(
        Conditions.set(
            status.getConditions(),
            Conditions.WARNING,
            phase != BudgetStatus.Phase.OK,
            phase == BudgetStatus.Phase.OK ? "BelowThresholds" : "ThresholdReached",
            phase == BudgetStatus.Phase.OK
                ? "Spend is below every alert threshold (" + pct + "% used)"
                : pct + "% of the limit is spent this period; alert thresholds reached: " + fired,
            generation,
            now));
    status.setConditions(
        Conditions.set(
            status.getConditions(),
            Conditions.EXCEEDED,
            phase == BudgetStatus.Phase.EXCEEDED,
            phase == BudgetStatus.Phase.EXCEEDED ? "LimitReached" : "WithinLimit",
            phase == BudgetStatus.Phase.EXCEEDED
                ? "The limit of "
                    + budget.getSpec().getLimit()
                    + " USD is spent; sidecars apply onExceeded until "
                    + spend.periodEnd
                    + " or until the limit is raised"
                : "Spend is within the limit",
            generation,
            now));
    return fresh;
  }

  /**
   * Dollars as the API promises them: every decimal the ledger holds up to six (micro-dollars,
   * rounded half up beyond), and at least cents: {@code 0.05326}, {@code 12.50}, {@code 0.000003}.
   * Never rounded to cents, so that a status or Event near a small limit says what was spent.
   */
  public static String money(BigDecimal usd) {
    BigDecimal micro = usd.setScale(6, java.math.RoundingMode.HALF_UP).stripTrailingZeros();
    return (micro.scale() < 2 ? micro.setScale(2) : micro).toPlainString();
  }

  static List<BudgetStatus.SpendItem> items(Map<String, SpendLedger.Item> items) {
    return items.entrySet().stream()
        .sorted(
            Comparator.comparing(
                    (Map.Entry<String, SpendLedger.Item> e) -> new BigDecimal(e.getValue().spent))
                .reversed()
                .thenComparing(Map.Entry::getKey))
        .limit(10)
        .map(
            e -> {
              BudgetStatus.SpendItem i = new BudgetStatus.SpendItem();
              i.setName(e.getKey());
              i.setSpent(money(new BigDecimal(e.getValue().spent)));
              i.setRequests(e.getValue().requests);
              return i;
            })
        .toList();
  }

  /**
   * The 10 biggest of {@code items} (null: none), without {@code _other}: the keys folded into it
   * are not one user, feature or workload.
   */
  static List<BudgetStatus.SpendItem> top(Map<String, SpendLedger.Item> items) {
    if (items == null || items.isEmpty()) {
      return List.of();
    }
    Map<String, SpendLedger.Item> named = new java.util.TreeMap<>(items);
    named.remove(dev.tollgate.sidecar.config.report.UsageReport.Attribution.OTHER);
    return items(named);
  }

  private static SpendLedger.BudgetSpend copy(SpendLedger.BudgetSpend s) {
    SpendLedger.BudgetSpend c = new SpendLedger.BudgetSpend();
    if (s == null) {
      return c;
    }
    c.periodStart = s.periodStart;
    c.periodEnd = s.periodEnd;
    c.spent = s.spent;
    c.batchSpent = s.batchSpent;
    c.byRoute = new java.util.TreeMap<>(s.byRoute);
    c.byModel = new java.util.TreeMap<>(s.byModel);
    c.byEndpoint = new java.util.TreeMap<>(s.byEndpoint);
    c.byCaller = new java.util.TreeMap<>(s.byCaller);
    c.byUser = new java.util.TreeMap<>(s.byUser);
    c.byFeature = new java.util.TreeMap<>(s.byFeature);
    c.byWorkload = new java.util.TreeMap<>(s.byWorkload);
    c.history = new ArrayList<>(s.history);
    return c;
  }
}
