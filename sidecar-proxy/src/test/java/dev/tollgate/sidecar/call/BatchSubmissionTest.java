package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.sidecar.budget.BudgetGate;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchSubmissionTest {
  private static final SidecarConfig CFG =
      read(
          """
          namespace: team
          routes:
            - model: classify
              budget: monthly
              tiers:
                - name: main
                  targets: [{credential: anthropic, model: claude-3-5-haiku-20241022}]
          credentials:
            - {name: anthropic, provider: anthropic, apiKeyFile: /k}
          budgets:
            - {name: monthly, limit: "10", onExceeded: Block}
          """);

  private static SidecarConfig read(String yaml) {
    try {
      return SidecarConfigCodec.read(yaml);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] batch(int items, int maxTokens) {
    StringBuilder b = new StringBuilder("{\"requests\":[");
    for (int i = 0; i < items; i++) {
      b.append(i == 0 ? "" : ",")
          .append("{\"custom_id\":\"")
          .append(i)
          .append("\",\"params\":{\"model\":\"classify\",\"max_tokens\":")
          .append(maxTokens)
          .append(",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}");
    }
    return b.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void theEstimateIsInputAndMaxOutputAtBatchPrices() {
    BatchSubmission s =
        BatchSubmission.prepare(
            CFG,
            CFG.credential("anthropic").orElseThrow(),
            batch(1000, 1000),
            PriceCatalogue.builtIn());
    assertThat(s.items()).isEqualTo(1000);
    assertThat(new String(s.body(), StandardCharsets.UTF_8))
        .contains("\"model\":\"claude-3-5-haiku-20241022\"")
        .doesNotContain("\"classify\"");
    // each item: ~22 input tokens × $0.40 + 1,000 output × $2 per million (Haiku 3.5, batch)
    BigDecimal estimate = s.estimates().get("monthly");
    assertThat(estimate).isBetween(new BigDecimal("2.0"), new BigDecimal("2.02"));
  }

  @Test
  void aBatchLargerThanWhatIsLeftOfABlockingBudgetIsRefused() {
    BudgetGate gate = new BudgetGate();
    // the operator's last word: 85% of the $10 limit used
    gate.update(
        new ReportReply(
            1,
            null,
            List.of(
                new ReportReply.BudgetState(
                    "monthly", "Warning", "Block", "1.00", "85", List.of(), List.of())),
            List.of(),
            null),
        Map.of());
    assertThat(gate.admitsBatch(CFG, "monthly", new BigDecimal("1.40"))).isNull();
    ProxyException refused = gate.admitsBatch(CFG, "monthly", new BigDecimal("2.01"));
    assertThat(refused.kind()).isEqualTo(ErrorKind.BUDGET_EXCEEDED);
    assertThat(refused.getMessage()).contains("1.500000 USD left", "2.010000 USD");
  }

  @Test
  void aBatchThatIsNotAMessageBatchIsRefusedAs400() {
    assertThatThrownBy(
            () ->
                BatchSubmission.prepare(
                    CFG,
                    CFG.credential("anthropic").orElseThrow(),
                    "{\"requests\":[{\"params\":{}}]}".getBytes(StandardCharsets.UTF_8),
                    PriceCatalogue.builtIn()))
        .isInstanceOf(ProxyException.class)
        .hasMessageContaining("requests[0].params.model is required");
  }
}
