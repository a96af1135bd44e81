package dev.tollgate.sidecar.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConversationCostsTest {
  private static CallRecord call(String conversation, String usd) {
    return CallRecord.builder()
        .requestId("r")
        .route("chat")
        .target("openai", "openai", "gpt-4o")
        .outcome(200, null)
        .cost(new Cost(new BigDecimal(usd), true))
        .attribution(new Attribution("u", null, conversation, null, null, null, 0), 0)
        .build();
  }

  @Test
  void aConversationIsCountedOnceWhenItsCostReachesTheThresholdWithoutALabelOfItsOwn() {
    ProxyMetrics metrics = new ProxyMetrics();
    metrics.conversationCosts(
        ConversationCosts.fromEnv(Map.of("TOLLGATE_CONVERSATION_COST_USD", "1")));
    metrics.ended(call("conv-a", "0.60"));
    metrics.ended(call("conv-b", "0.60"));
    String before = new String(metrics.scrape(), StandardCharsets.UTF_8);
    assertThat(before).doesNotContain("tollgate_conversations_over_cost_total{");
    metrics.ended(call("conv-a", "0.40")); // 1.00: reached
    metrics.ended(call("conv-a", "5")); // already counted
    metrics.ended(call(null, "5")); // no conversation header
    String text = new String(metrics.scrape(), StandardCharsets.UTF_8);
    assertThat(text).contains("tollgate_conversations_over_cost_total{route=\"chat\"} 1.0");
    assertThat(text).doesNotContain("conv-a");
  }

  @Test
  void theThresholdComesFromTheEnvironment() {
    assertThat(ConversationCosts.fromEnv(Map.of()).threshold()).isEqualByComparingTo("2");
    assertThat(
            ConversationCosts.fromEnv(Map.of("TOLLGATE_CONVERSATION_COST_USD", "0.5")).threshold())
        .isEqualByComparingTo("0.5");
    assertThatThrownBy(
            () -> ConversationCosts.fromEnv(Map.of("TOLLGATE_CONVERSATION_COST_USD", "-1")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
