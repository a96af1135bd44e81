package dev.tollgate.sidecar.config.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class MoneyTest {
  @Test
  void plainDecimalsAreMoney() {
    assertThat(Money.parse("0.0125")).isEqualByComparingTo(new BigDecimal("0.0125"));
    assertThat(Money.parse("12")).isEqualByComparingTo(new BigDecimal("12"));
    assertThat(Money.parse("999999999999.999999999999999999")).isEqualByComparingTo(Money.MAX);
    // exact cost of one token at 0.15 USD per million with a 12.5 % markup
    assertThat(Money.valid("0.00000016875")).isTrue();
  }

  @Test
  void exponentsNegativesAndExcessIsNot() {
    for (String bad :
        new String[] {
          "1E+100000",
          "1e3",
          "-1000",
          "+1",
          "1.1234567890123456789",
          "1000000000000",
          ".5",
          "5.",
          "",
          " 1",
          "NaN",
          "Infinity",
          "0x10",
          "١٢"
        }) {
      assertThat(Money.valid(bad)).as(bad).isFalse();
    }
    assertThat(Money.valid(null)).isFalse();
    assertThatThrownBy(() -> Money.parse("1E+100000"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"1E+100000\"");
  }

  @Test
  void errorMessagesCutLongValues() {
    assertThat(Money.quoted("9".repeat(1000))).hasSizeLessThan(50);
  }
}
