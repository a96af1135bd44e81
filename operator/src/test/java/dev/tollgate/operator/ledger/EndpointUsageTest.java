package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.operator.report.ReportValidator;
import dev.tollgate.operator.status.RouteUsageStatus;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Usage by endpoint kind: reported per line by the sidecar, summed per route in the ledger (which
 * survives a write and read back), projected onto the LLMRoute's {@code status.usage.byEndpoint},
 * and refused for a kind outside the bounded set.
 */
class EndpointUsageTest {
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");
  private static final ObjectMapper JSON = new ObjectMapper();

  private static UsageReport report(long seq, Map<String, UsageReport.EndpointUsage> byEndpoint) {
    return UsageReport.builder("ns", "a", "uid-a", "boot", seq, null)
        .lines(
            List.of(
                UsageReport.Line.builder("claude", "main", "anthropic", "claude-3-5-sonnet", null)
                    .requests(3)
                    .inputTokens(300)
                    .outputTokens(20)
                    .costUsd("0.0012")
                    .byEndpoint(byEndpoint)
                    .build()))
        .build();
  }

  @Test
  void usageByEndpointIsSummedPerRouteAndProjectedOntoStatus() throws Exception {
    SpendLedger ledger = new SpendLedger();
    // the report as it crosses the wire
    UsageReport first =
        JSON.readValue(
            JSON.writeValueAsString(
                report(
                    1,
                    Map.of(
                        "chat", new UsageReport.EndpointUsage(1, 100, 20, "0.0012"),
                        "count_tokens", new UsageReport.EndpointUsage(2, 0, 0, "0")))),
            UsageReport.class);
    assertThat(ReportValidator.problem(first)).isEmpty();
    Accounting.apply(ledger, first, List.of(), NOW, Duration.ofSeconds(30));
    Accounting.apply(
        ledger,
        report(2, Map.of("chat", new UsageReport.EndpointUsage(3, 200, 40, "0.0024"))),
        List.of(),
        NOW,
        Duration.ofSeconds(30));

    SpendLedger stored = JSON.readValue(JSON.writeValueAsString(ledger), SpendLedger.class);
    SpendLedger.EndpointItem chat = stored.routes.get("claude").byEndpoint.get("chat");
    assertThat(chat.requests).isEqualTo(4);
    assertThat(chat.inputTokens).isEqualTo(300);
    assertThat(chat.outputTokens).isEqualTo(60);
    assertThat(new BigDecimal(chat.spent)).isEqualByComparingTo("0.0036");

    LLMRouteStatus status = new LLMRouteStatus();
    RouteUsageStatus.apply(status, stored.routes.get("claude"));
    Map<String, LLMRouteStatus.EndpointUsage> byEndpoint = status.getUsage().getByEndpoint();
    assertThat(byEndpoint).containsOnlyKeys("chat", "count_tokens");
    assertThat(byEndpoint.get("chat").getRequests()).isEqualTo(4);
    assertThat(byEndpoint.get("count_tokens").getRequests()).isEqualTo(2);
    assertThat(new BigDecimal(byEndpoint.get("count_tokens").getSpend())).isZero();
  }

  @Test
  void aBudgetsSpendIsSplitByEndpointAndProjectedOntoItsStatus() throws Exception {
    SpendLedger ledger = new SpendLedger();
    dev.tollgate.api.v1alpha1.Budget budget =
        dev.tollgate.operator.Fixtures.budget("ns", "monthly", "100");
    UsageReport r =
        UsageReport.builder("ns", "a", "uid-a", "boot", 1, null)
            .lines(
                List.of(
                    UsageReport.Line.builder(
                            "claude", "main", "anthropic", "claude-3-5-sonnet", "monthly")
                        .requests(3)
                        .inputTokens(300)
                        .outputTokens(20)
                        .costUsd("0.0012")
                        .byEndpoint(
                            Map.of(
                                "chat", new UsageReport.EndpointUsage(1, 100, 20, "0.0012"),
                                "count_tokens", new UsageReport.EndpointUsage(2, 0, 0, "0")))
                        .build()))
            .build();
    Accounting.apply(ledger, r, List.of(budget), NOW, Duration.ofSeconds(30));

    SpendLedger stored = JSON.readValue(JSON.writeValueAsString(ledger), SpendLedger.class);
    SpendLedger.BudgetSpend spend = stored.budgets.get("monthly");
    assertThat(spend.byEndpoint).containsOnlyKeys("chat", "count_tokens");
    dev.tollgate.api.v1alpha1.BudgetStatus status = new dev.tollgate.api.v1alpha1.BudgetStatus();
    dev.tollgate.operator.status.BudgetSpendStatus.apply(budget, status, spend, NOW);
    assertThat(status.getByEndpoint())
        .extracting(
            dev.tollgate.api.v1alpha1.BudgetStatus.SpendItem::getName,
            dev.tollgate.api.v1alpha1.BudgetStatus.SpendItem::getRequests)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("chat", 1L),
            org.assertj.core.groups.Tuple.tuple("count_tokens", 2L));
  }

  @Test
  void aLedgerWrittenBeforeByEndpointReadsAsNone() throws Exception {
    SpendLedger old =
        JSON.readValue("{\"routes\":{\"r\":{\"requests\":2,\"spent\":\"1\"}}}", SpendLedger.class);
    LLMRouteStatus status = new LLMRouteStatus();
    RouteUsageStatus.apply(status, old.routes.get("r"));
    assertThat(status.getUsage().getByEndpoint()).isNull();
    assertThat(JSON.writeValueAsString(old)).doesNotContain("byEndpoint");
  }

  @Test
  void aKindOutsideTheBoundedSetIsRefused() {
    assertThat(
            ReportValidator.problem(
                report(1, Map.of("images-v9", new UsageReport.EndpointUsage(1, 0, 0, "0")))))
        .hasValueSatisfying(
            p -> assertThat(p).contains("byEndpoint").contains("not an endpoint kind"));
    assertThat(
            ReportValidator.problem(
                report(1, Map.of("chat", new UsageReport.EndpointUsage(-1, 0, 0, "0")))))
        .isPresent();
  }
}
