package dev.tollgate.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/** Money in Budget status and Events: as precise as the ledger, up to six decimals. */
class BudgetMoneyTest {
  @Test
  void spendIsNotRoundedToCents() {
    assertThat(BudgetSpendStatus.money(new BigDecimal("0.05326"))).isEqualTo("0.05326");
    assertThat(BudgetSpendStatus.money(new BigDecimal("9.375"))).isEqualTo("9.375");
    assertThat(BudgetSpendStatus.money(new BigDecimal("0.000003"))).isEqualTo("0.000003");
  }

  @Test
  void atLeastCentsAndAtMostMicroDollars() {
    assertThat(BudgetSpendStatus.money(new BigDecimal("12.5"))).isEqualTo("12.50");
    assertThat(BudgetSpendStatus.money(new BigDecimal("100"))).isEqualTo("100.00");
    assertThat(BudgetSpendStatus.money(new BigDecimal("0.050000"))).isEqualTo("0.05");
    assertThat(BudgetSpendStatus.money(new BigDecimal("0.1234567"))).isEqualTo("0.123457");
    assertThat(BudgetSpendStatus.money(new BigDecimal("0.0000001"))).isEqualTo("0.00");
    assertThat(BudgetSpendStatus.money(BigDecimal.ZERO)).isEqualTo("0.00");
  }
}
