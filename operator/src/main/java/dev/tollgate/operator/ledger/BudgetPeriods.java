package dev.tollgate.operator.ledger;

import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.TemporalAdjusters;
import java.util.List;

/**
 * Budget arithmetic shared by the report replies and the Budget status: periods, percent, phase.
 */
public final class BudgetPeriods {
  /** How many finished periods a Budget's status keeps. */
  public static final int HISTORY = 6;

  private BudgetPeriods() {}

  /** A period [start, end) in UTC. */
  public record Period(Instant start, Instant end) {
    public boolean contains(Instant t) {
      return !t.isBefore(start) && t.isBefore(end);
    }
  }

  /** The period containing {@code now}: days, weeks from Monday, months from the 1st, in UTC. */
  public static Period periodAt(BudgetSpec.Period period, Instant now) {
    LocalDate day = now.atZone(ZoneOffset.UTC).toLocalDate();
    LocalDate start;
    LocalDate end;
    switch (period == null ? BudgetSpec.Period.MONTHLY : period) {
      case DAILY -> {
        start = day;
        end = day.plusDays(1);
      }
      case WEEKLY -> {
        start = day.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
        end = start.plusWeeks(1);
      }
      default -> {
        start = day.withDayOfMonth(1);
        end = start.plusMonths(1);
      }
    }
    return new Period(
        start.atStartOfDay(ZoneOffset.UTC).toInstant(),
        end.atStartOfDay(ZoneOffset.UTC).toInstant());
  }

  /** Spent over limit in percent, two decimals. */
  public static BigDecimal percent(BigDecimal spent, BigDecimal limit) {
    if (limit.signum() <= 0) {
      return BigDecimal.valueOf(100);
    }
    return spent.multiply(BigDecimal.valueOf(100)).divide(limit, 2, RoundingMode.HALF_UP);
  }

  /** Exceeded at or over the limit; Warning once the lowest alert threshold is crossed. */
  public static BudgetStatus.Phase phase(BigDecimal spent, BigDecimal limit, List<Integer> alerts) {
    if (spent.compareTo(limit) >= 0) {
      return BudgetStatus.Phase.EXCEEDED;
    }
    BigDecimal pct = percent(spent, limit);
    int lowest = alerts.stream().mapToInt(Integer::intValue).min().orElse(101);
    return pct.compareTo(BigDecimal.valueOf(lowest)) >= 0
        ? BudgetStatus.Phase.WARNING
        : BudgetStatus.Phase.OK;
  }

  /** Thresholds of {@code alerts} that {@code spent} has reached, ascending. */
  public static List<Integer> crossed(BigDecimal spent, BigDecimal limit, List<Integer> alerts) {
    BigDecimal pct = percent(spent, limit);
    return alerts.stream()
        .filter(a -> pct.compareTo(BigDecimal.valueOf(a)) >= 0)
        .sorted()
        .distinct()
        .toList();
  }

  /** Linear projection of spend at period end from the share of the period elapsed. */
  public static BigDecimal projected(BigDecimal spent, Period period, Instant now) {
    long total = period.end().toEpochMilli() - period.start().toEpochMilli();
    long elapsed = Math.max(1, now.toEpochMilli() - period.start().toEpochMilli());
    return spent
        .multiply(BigDecimal.valueOf(total))
        .divide(BigDecimal.valueOf(elapsed), 2, RoundingMode.HALF_UP);
  }

  /** The alert thresholds of a spec, default 50 and 90. */
  public static List<Integer> alerts(BudgetSpec spec) {
    return spec.getAlerts() == null || spec.getAlerts().isEmpty()
        ? List.of(50, 90)
        : spec.getAlerts();
  }

  /**
   * Moves {@code spend} into the period containing {@code now}: a finished period goes to the
   * history (newest first, at most {@link #HISTORY}) and the counters start again.
   */
  public static void roll(SpendLedger.BudgetSpend spend, BudgetSpec.Period period, Instant now) {
    Period current = periodAt(period, now);
    String start = current.start().toString();
    if (start.equals(spend.periodStart)) {
      return;
    }
    if (spend.periodStart != null) {
      spend.history.add(
          0, new SpendLedger.PeriodTotal(spend.periodStart, spend.periodEnd, spend.spent));
      while (spend.history.size() > HISTORY) {
        spend.history.remove(spend.history.size() - 1);
      }
    }
    spend.periodStart = start;
    spend.periodEnd = current.end().toString();
    spend.spent = "0";
    spend.byRoute.clear();
    spend.byModel.clear();
    spend.byEndpoint.clear();
    spend.byCaller.clear();
    spend.batchSpent = null;
    spend.byUser.clear();
    spend.byFeature.clear();
    spend.byWorkload.clear();
  }
}
