package dev.tollgate.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.operator.ledger.SpendLedger;
import org.junit.jupiter.api.Test;

class RouteUsageStatusTest {
  @Test
  void promptCacheHitRateIsReadsOverReadsAndWrites() {
    // the seed's month: 8,000 reads and 2,000 writes of a 1,000-token system prompt
    SpendLedger.RouteUsage usage = new SpendLedger.RouteUsage();
    usage.requests = 10_000;
    usage.cacheReadTokens = 8_000_000;
    usage.cacheWriteTokens = 2_000_000;
    LLMRouteStatus status = new LLMRouteStatus();

    RouteUsageStatus.apply(status, usage);

    assertThat(status.getUsage().getPromptCacheHitRatePercent()).isEqualTo("80.0");
    assertThat(status.getUsage().getCacheReadTokens()).isEqualTo(8_000_000);
  }

  @Test
  void promptCacheHitRateIsRoundedToOneDecimalAndAbsentWithoutCacheTraffic() {
    assertThat(RouteUsageStatus.promptCacheHitRatePercent(2, 1)).isEqualTo("66.7");
    assertThat(RouteUsageStatus.promptCacheHitRatePercent(0, 1792)).isEqualTo("0.0");
    assertThat(RouteUsageStatus.promptCacheHitRatePercent(0, 0)).isNull();

    LLMRouteStatus status = new LLMRouteStatus();
    RouteUsageStatus.apply(status, new SpendLedger.RouteUsage());
    assertThat(status.getUsage().getPromptCacheHitRatePercent()).isNull();
  }
}
