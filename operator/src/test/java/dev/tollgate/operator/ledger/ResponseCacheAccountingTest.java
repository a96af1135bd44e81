package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.status.RouteUsageStatus;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Response cache hits in reports: counted and their savings summed, never spent. */
class ResponseCacheAccountingTest {
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");

  private static List<Budget> budgets() {
    Budget b = Fixtures.budget("ns", "monthly", "10");
    b.getSpec().setOnExceeded(BudgetSpec.ExceededAction.BLOCK);
    return List.of(b);
  }

  private static UsageReport report(long seq, UsageReport.Line... lines) {
    return UsageReport.builder("ns", "a", "uid-a", "boot", seq, null).lines(List.of(lines)).build();
  }

  @Test
  void hitsAreFoldedIntoTheRouteStatusAndNeverIntoSpendOrHealth() {
    SpendLedger ledger = new SpendLedger();
    // 3 calls reached the provider for 0.30; 1 hit replayed an answer that had cost 0.10
    UsageReport.Line served =
        UsageReport.Line.builder("faq", "main", "openai", "gpt-4o", "monthly")
            .requests(3)
            .inputTokens(300)
            .outputTokens(150)
            .costUsd("0.30")
            .build();
    Accounting.apply(ledger, report(1, served), budgets(), NOW, Duration.ofSeconds(30));
    UsageReport.Line hit =
        UsageReport.Line.builder("faq", "main", "openai", "gpt-4o", "monthly")
            .costUsd("0")
            .cacheHits(1)
            .savedInputTokens(100)
            .savedOutputTokens(50)
            .savedCostUsd("0.10")
            .build();
    Accounting.apply(ledger, report(2, hit), budgets(), NOW, Duration.ofSeconds(30));
    // the same report retried is applied once
    Accounting.apply(ledger, report(2, hit), budgets(), NOW, Duration.ofSeconds(30));

    SpendLedger.RouteUsage u = ledger.routes.get("faq");
    assertThat(u.requests).isEqualTo(3);
    assertThat(u.cacheHits).isEqualTo(1);
    assertThat(u.savedInputTokens).isEqualTo(100);
    assertThat(u.savedOutputTokens).isEqualTo(50);
    assertThat(new BigDecimal(u.saved)).isEqualByComparingTo("0.10");
    assertThat(new BigDecimal(u.spent)).isEqualByComparingTo("0.30");
    assertThat(new BigDecimal(ledger.budgets.get("monthly").spent)).isEqualByComparingTo("0.30");
    long[] calls =
        ledger.health.get("openai/gpt-4o").minutes.values().stream()
            .reduce(new long[2], (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
    assertThat(calls[0]).as("provider calls in health").isEqualTo(3);

    LLMRouteStatus status = new LLMRouteStatus();
    RouteUsageStatus.apply(status, u);
    assertThat(status.getUsage().getCacheHits()).isEqualTo(1);
    assertThat(status.getUsage().getCacheHitRatePercent()).isEqualTo("25.0");
    assertThat(status.getUsage().getCacheSavings()).isEqualTo("0.10");
    assertThat(status.getUsage().getSpend()).isEqualTo("0.30");
  }

  @Test
  void aRouteWithoutHitsShowsZero() {
    SpendLedger.RouteUsage u = new SpendLedger.RouteUsage();
    u.requests = 4;
    LLMRouteStatus status = new LLMRouteStatus();
    RouteUsageStatus.apply(status, u);
    assertThat(status.getUsage().getCacheHits()).isZero();
    assertThat(status.getUsage().getCacheHitRatePercent()).isEqualTo("0.0");
    assertThat(status.getUsage().getCacheSavings()).isEqualTo("0.00");
  }
}
