package dev.tollgate.sidecar.budget;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.BudgetConfig;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class CallerKeysTest {
  private static final BudgetConfig.CallerQuota RAW =
      new BudgetConfig.CallerQuota("x-tollgate-user", BigDecimal.ONE, false);
  private static final BudgetConfig.CallerQuota HASHED =
      new BudgetConfig.CallerQuota("x-tollgate-user", BigDecimal.ONE, true);

  @Test
  void aMissingOrBlankHeaderNamesNoCaller() {
    assertThat(CallerKeys.of(RAW, "ns", "b", null)).isNull();
    assertThat(CallerKeys.of(HASHED, "ns", "b", "  ")).isNull();
  }

  @Test
  void shortIdentifiersAreKeptAsSentUnlessTheBudgetHashesKeys() {
    assertThat(CallerKeys.of(RAW, "ns", "b", " alice@example.com ")).isEqualTo("alice@example.com");
    String hashed = CallerKeys.of(HASHED, "ns", "b", "alice@example.com");
    assertThat(hashed).matches("sha256:[0-9a-f]{16}").doesNotContain("alice");
    // stable, so the same caller is one key on every sidecar of the namespace
    assertThat(CallerKeys.of(HASHED, "ns", "b", "alice@example.com")).isEqualTo(hashed);
    assertThat(CallerKeys.of(HASHED, "ns", "b", "bob@example.com")).isNotEqualTo(hashed);
  }

  @Test
  void hashesDifferBetweenNamespacesAndBudgets() {
    String a = CallerKeys.of(HASHED, "team-a", "monthly", "alice");
    assertThat(CallerKeys.of(HASHED, "team-b", "monthly", "alice")).isNotEqualTo(a);
    assertThat(CallerKeys.of(HASHED, "team-a", "daily", "alice")).isNotEqualTo(a);
  }

  @Test
  void longOrUnusualRawValuesAreHashedAnyway() {
    String longId = "u".repeat(CallerKeys.MAX_RAW_LENGTH + 1);
    assertThat(CallerKeys.of(RAW, "ns", "b", longId)).startsWith(CallerKeys.HASHED);
    assertThat(CallerKeys.of(RAW, "ns", "b", "u".repeat(CallerKeys.MAX_RAW_LENGTH)))
        .hasSize(CallerKeys.MAX_RAW_LENGTH);
    assertThat(CallerKeys.of(RAW, "ns", "b", "two words")).startsWith(CallerKeys.HASHED);
    assertThat(CallerKeys.of(RAW, "ns", "b", "_other")).startsWith(CallerKeys.HASHED);
    assertThat(CallerKeys.of(RAW, "ns", "b", "jürgen")).startsWith(CallerKeys.HASHED);
    // a megabyte of header is hashed from a bounded prefix, still to a short key
    assertThat(CallerKeys.of(RAW, "ns", "b", "x".repeat(1 << 20))).hasSize(23);
  }
}
