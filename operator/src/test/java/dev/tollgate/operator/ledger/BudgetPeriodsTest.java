package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class BudgetPeriodsTest {
  @Test
  void periodsStartAtUtcBoundaries() {
    Instant t = Instant.parse("2026-11-22T10:00:00Z"); // a Sunday
    assertThat(BudgetPeriods.periodAt(BudgetSpec.Period.DAILY, t).start())
        .isEqualTo(Instant.parse("2026-11-22T00:00:00Z"));
    assertThat(BudgetPeriods.periodAt(BudgetSpec.Period.WEEKLY, t).start())
        .isEqualTo(Instant.parse("2026-11-16T00:00:00Z"));
    assertThat(BudgetPeriods.periodAt(BudgetSpec.Period.MONTHLY, t).end())
        .isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
  }

  @Test
  void rolloverKeepsTheFinishedPeriodInTheHistory() {
    SpendLedger.BudgetSpend spend = new SpendLedger.BudgetSpend();
    BudgetPeriods.roll(spend, BudgetSpec.Period.DAILY, Instant.parse("2026-11-21T23:00:00Z"));
    spend.spent = "4.20";
    BudgetPeriods.roll(spend, BudgetSpec.Period.DAILY, Instant.parse("2026-11-22T00:00:01Z"));
    assertThat(spend.spent).isEqualTo("0");
    assertThat(spend.periodStart).isEqualTo("2026-11-22T00:00:00Z");
    assertThat(spend.history)
        .containsExactly(
            new SpendLedger.PeriodTotal("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", "4.20"));
  }

  @Test
  void phaseAndThresholds() {
    BigDecimal limit = new BigDecimal("100");
    List<Integer> alerts = List.of(50, 90);
    assertThat(BudgetPeriods.phase(new BigDecimal("49.99"), limit, alerts))
        .isEqualTo(BudgetStatus.Phase.OK);
    assertThat(BudgetPeriods.phase(new BigDecimal("50"), limit, alerts))
        .isEqualTo(BudgetStatus.Phase.WARNING);
    assertThat(BudgetPeriods.phase(new BigDecimal("100"), limit, alerts))
        .isEqualTo(BudgetStatus.Phase.EXCEEDED);
    assertThat(BudgetPeriods.crossed(new BigDecimal("91"), limit, alerts)).containsExactly(50, 90);
  }
}
