package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The report's attribution is checked at the operator's edge like every other field. */
class AttributionValidationTest {
  private static UsageReport report(UsageReport.Attribution a) {
    return UsageReport.builder("ns", "pod", "uid", "boot", 1, null).attribution(a).build();
  }

  private static UsageReport.KeySpend key(String key) {
    return new UsageReport.KeySpend("chat", "monthly", key, 1, "0.01");
  }

  private static UsageReport.Workload workload(String kind, String name) {
    return new UsageReport.Workload(kind, name, "default", "api");
  }

  @Test
  void anHonestSidecarsAttributionPasses() {
    assertThat(
            ReportValidator.problem(
                report(
                    new UsageReport.Attribution(
                        workload("Deployment", "checkout"),
                        List.of(
                            key("alice@example.com"),
                            key("sha256:0123456789abcdef"),
                            key("_other")),
                        List.of(key("search"), key("_invalid"))))))
        .isEmpty();
  }

  @Test
  void keysWorkloadsAndCountsAreBounded() {
    assertThat(
            ReportValidator.problem(
                report(new UsageReport.Attribution(null, List.of(key("a\nb")), List.of()))))
        .hasValueSatisfying(p -> assertThat(p).startsWith("attribution.users[0].key"));
    assertThat(
            ReportValidator.problem(
                report(
                    new UsageReport.Attribution(null, List.of(key("x".repeat(129))), List.of()))))
        .isPresent();
    assertThat(
            ReportValidator.problem(
                report(new UsageReport.Attribution(workload("Secret", "x"), null, null))))
        .hasValueSatisfying(p -> assertThat(p).startsWith("attribution.workload.kind"));
    assertThat(
            ReportValidator.problem(
                report(
                    new UsageReport.Attribution(workload("Deployment", "Not_A_Name"), null, null))))
        .hasValueSatisfying(p -> assertThat(p).startsWith("attribution.workload.name"));
    List<UsageReport.KeySpend> many = new ArrayList<>();
    for (int i = 0; i <= UsageReport.Attribution.MAX_FEATURES_PER_ROUTE + 1; i++) {
      many.add(key("f" + i));
    }
    assertThat(ReportValidator.problem(report(new UsageReport.Attribution(null, null, many))))
        .hasValueSatisfying(p -> assertThat(p).contains("more than 21 keys for route chat"));
    assertThat(
            ReportValidator.problem(
                report(
                    new UsageReport.Attribution(
                        null,
                        List.of(new UsageReport.KeySpend("chat", null, "a", -1, "0")),
                        null))))
        .hasValueSatisfying(p -> assertThat(p).startsWith("attribution.users[0].requests"));
  }
}
