package dev.tollgate.sidecar.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportMergeTest {
  private static UsageReport.Line line(String model, long requests, String cost) {
    return UsageReport.Line.builder("r", "main", "openai", model, "b")
        .requests(requests)
        .inputTokens(10 * requests)
        .outputTokens(5 * requests)
        .costUsd(cost)
        .failovers(1)
        .errors(Map.of("upstream_error", 1L))
        .build();
  }

  @Test
  void anAggregateKeepsEveryCallAndCentUnderTheLaterSequence() {
    UsageReport earlier =
        UsageReport.builder("ns", "pod", "uid", "boot", 7, "v1")
            .lines(List.of(line("gpt-4o", 2, "0.000123"), line("gpt-4o-mini", 1, "0.5")))
            .callers(List.of(new UsageReport.CallerSpend("b", "alice", 2, "0.1")))
            .build();
    UsageReport later =
        UsageReport.builder("ns", "pod", "uid", "boot", 8, "v2")
            .lines(List.of(line("gpt-4o", 3, "0.000001")))
            .callers(List.of(new UsageReport.CallerSpend("b", "alice", 1, "0.05")))
            .build();

    UsageReport merged = ReportMerge.merge(earlier, later);

    assertThat(merged.sequence()).isEqualTo(8);
    assertThat(merged.configVersion()).isEqualTo("v2");
    UsageReport.Line gpt4o =
        merged.lines().stream().filter(l -> l.model().equals("gpt-4o")).findFirst().orElseThrow();
    assertThat(gpt4o.requests()).isEqualTo(5);
    assertThat(gpt4o.inputTokens()).isEqualTo(50);
    assertThat(gpt4o.costUsd()).isEqualTo("0.000124");
    assertThat(gpt4o.failovers()).isEqualTo(2);
    assertThat(gpt4o.errors()).containsEntry("upstream_error", 2L);
    assertThat(merged.lines()).hasSize(2);
    assertThat(merged.callers())
        .containsExactly(new UsageReport.CallerSpend("b", "alice", 3, "0.15"));
  }

  private static UsageReport.Line withEndpoints(Map<String, UsageReport.EndpointUsage> by) {
    return UsageReport.Line.builder("r", "main", "openai", "m", null)
        .requests(1)
        .inputTokens(10)
        .outputTokens(5)
        .costUsd("0.1")
        .byEndpoint(by)
        .build();
  }

  @Test
  void anAggregateSumsTheUsageByEndpointKind() {
    UsageReport earlier =
        UsageReport.builder("ns", "pod", "uid", "boot", 1, "v1")
            .lines(
                List.of(
                    withEndpoints(
                        Map.of(
                            "chat", new UsageReport.EndpointUsage(1, 10, 5, "0.1"),
                            "embeddings", new UsageReport.EndpointUsage(2, 7, 0, "0.01")))))
            .build();
    UsageReport later =
        UsageReport.builder("ns", "pod", "uid", "boot", 2, "v1")
            .lines(
                List.of(
                    withEndpoints(Map.of("chat", new UsageReport.EndpointUsage(3, 30, 6, "0.2")))))
            .build();

    UsageReport.Line merged = ReportMerge.merge(earlier, later).lines().get(0);

    assertThat(merged.byEndpoint().get("chat"))
        .isEqualTo(new UsageReport.EndpointUsage(4, 40, 11, "0.3"));
    assertThat(merged.byEndpoint().get("embeddings"))
        .isEqualTo(new UsageReport.EndpointUsage(2, 7, 0, "0.01"));
  }

  @Test
  void anAggregateSumsSpendByUserAndFeatureWithinTheCapAndKeepsTheWorkload() {
    UsageReport.Workload w = new UsageReport.Workload("Deployment", "checkout", "sa", "api");
    List<UsageReport.KeySpend> many = new java.util.ArrayList<>();
    for (int i = 0; i < UsageReport.Attribution.MAX_USERS_PER_ROUTE; i++) {
      many.add(new UsageReport.KeySpend("r", "b", "u" + i, 1, "0.01"));
    }
    UsageReport earlier =
        UsageReport.builder("ns", "p", "uid", "boot", 1, "v1")
            .lines(List.of(line("gpt-4o", 1, "0.01")))
            .attribution(new UsageReport.Attribution(w, many, List.of()))
            .build();
    UsageReport later =
        UsageReport.builder("ns", "p", "uid", "boot", 2, "v1")
            .lines(List.of(line("gpt-4o", 1, "0.5")))
            .attribution(
                new UsageReport.Attribution(
                    w,
                    List.of(
                        new UsageReport.KeySpend("r", "b", "u0", 1, "0.2"),
                        new UsageReport.KeySpend("r", "b", "new", 1, "0.3")),
                    List.of(new UsageReport.KeySpend("r", "b", "search", 2, "0.5"))))
            .build();
    UsageReport.Attribution merged = ReportMerge.merge(earlier, later).attribution();
    assertThat(merged.workload()).isEqualTo(w);
    assertThat(merged.users()).hasSize(UsageReport.Attribution.MAX_USERS_PER_ROUTE + 1);
    assertThat(merged.users().get(0))
        .isEqualTo(new UsageReport.KeySpend("r", "b", "new", 1, "0.3"));
    assertThat(merged.users().get(1))
        .isEqualTo(new UsageReport.KeySpend("r", "b", "u0", 2, "0.21"));
    UsageReport.KeySpend other = merged.users().get(merged.users().size() - 1);
    assertThat(other.key()).isEqualTo(UsageReport.Attribution.OTHER);
    assertThat(other.requests()).isEqualTo(1);
    assertThat(merged.users().stream().mapToLong(UsageReport.KeySpend::requests).sum())
        .isEqualTo(102);
    assertThat(merged.features())
        .containsExactly(new UsageReport.KeySpend("r", "b", "search", 2, "0.5"));
  }
}
