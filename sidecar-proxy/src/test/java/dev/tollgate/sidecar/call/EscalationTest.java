package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.config.RouteConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class EscalationTest {
  private static final RouteConfig ROUTE = CallTestConfigs.route("escalating");

  private static ChatResponse answer(String text) {
    return new ChatResponse(
        "id", "m1", List.of(new ChatRequest.Text(text)), FinishReason.STOP, null);
  }

  @Test
  void aLowConfidenceAnswerOfTheCheapTierAsksTheStrongOne() {
    assertThat(Escalation.strongerTier(ROUTE, "cheap", answer("  UNSURE: maybe 4")).name())
        .isEqualTo("strong");
  }

  @Test
  void aConfidentAnswerAnotherTierOrARouteWithoutEscalationStays() {
    assertThat(Escalation.strongerTier(ROUTE, "cheap", answer("4"))).isNull();
    assertThat(Escalation.strongerTier(ROUTE, "cheap", answer("4. UNSURE: no"))).isNull();
    assertThat(Escalation.strongerTier(ROUTE, "strong", answer("UNSURE: 4"))).isNull();
    assertThat(Escalation.strongerTier(CallTestConfigs.route("chat"), "main", answer("UNSURE:")))
        .isNull();
  }
}
