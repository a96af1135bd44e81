package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportValidatorTest {
  private static UsageReport.Line line(String cost) {
    return UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
        .requests(1)
        .inputTokens(10)
        .outputTokens(5)
        .costUsd(cost)
        .build();
  }

  private static UsageReport report(List<UsageReport.Line> lines) {
    return UsageReport.builder("ns", "pod", "uid", "boot", 1, "v1").lines(lines).build();
  }

  @Test
  void anHonestReportPasses() {
    assertThat(ReportValidator.problem(report(List.of(line("0.00000016875"), line(null)))))
        .isEmpty();
  }

  @Test
  void eachProblemNamesItsField() {
    assertThat(ReportValidator.problem(report(List.of(line("0.01"), line("1E+100000")))))
        .get()
        .asString()
        .startsWith("lines[1].costUsd: \"1E+100000\"");
    assertThat(
            ReportValidator.problem(
                UsageReport.builder("ns", "pod", "uid", "boot", 0, null).build()))
        .get()
        .asString()
        .startsWith("sequence");
    assertThat(
            ReportValidator.problem(
                UsageReport.builder("ns", "p".repeat(300), "uid", "boot", 1, null).build()))
        .get()
        .asString()
        .startsWith("pod: longer than");
  }

  @Test
  void listsAreBounded() {
    List<UsageReport.Line> many =
        new ArrayList<>(Collections.nCopies(ReportValidator.MAX_LINES + 1, line("0.01")));
    assertThat(ReportValidator.problem(report(many))).get().asString().startsWith("lines:");
    List<UsageReport.CallerSpend> callers = new ArrayList<>();
    for (int i = 0; i < UsageReport.CallerSpend.MAX_PER_BUDGET + 2; i++) {
      callers.add(new UsageReport.CallerSpend("monthly", "c" + i, 1, "0.01"));
    }
    assertThat(
            ReportValidator.problem(
                UsageReport.builder("ns", "pod", "uid", "boot", 1, null).callers(callers).build()))
        .get()
        .asString()
        .contains("callers for budget monthly");
  }

  @Test
  void targetHealthIsBounded() {
    UsageReport.TargetState bad =
        new UsageReport.TargetState(
            "chat", "main", "openai", "gpt-4o", "Closed", 3, Float.NaN, -1, -1, null, null);
    assertThat(
            ReportValidator.problem(
                UsageReport.builder("ns", "pod", "uid", "boot", 1, null)
                    .targets(List.of(bad))
                    .build()))
        .get()
        .asString()
        .startsWith("targets[0].errorRatePercent");
  }

  private static UsageReport withBatches(UsageReport.AdmittedBatch... batches) {
    return report(List.of()).withBatches(List.of(batches));
  }

  private static UsageReport.AdmittedBatch batch(
      String id, String api, long items, Map<String, String> estimates) {
    return new UsageReport.AdmittedBatch(
        id,
        "anthropic",
        api,
        items,
        estimates,
        List.of(new UsageReport.BatchRoute("support", "claude-3-5-haiku-20241022", "monthly")));
  }

  @Test
  void admittedBatchesAreChecked() {
    String api = UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES;
    assertThat(
            ReportValidator.problem(
                withBatches(batch("msgbatch_01abc", api, 8, Map.of("monthly", "0.0042")))))
        .isEmpty();
    assertThat(ReportValidator.problem(withBatches(batch("../x", api, 1, Map.of()))))
        .get()
        .asString()
        .startsWith("batches[0].id:");
    assertThat(
            ReportValidator.problem(
                withBatches(
                    batch(
                        "batch_abc123",
                        UsageReport.AdmittedBatch.OPENAI_BATCH,
                        8,
                        Map.of("monthly", "0.0042")))))
        .isEmpty();
    assertThat(ReportValidator.problem(withBatches(batch("b1", "gemini-batch", 1, Map.of()))))
        .get()
        .asString()
        .startsWith("batches[0].api:");
    assertThat(ReportValidator.problem(withBatches(batch("b1", api, -1, Map.of()))))
        .get()
        .asString()
        .startsWith("batches[0].items:");
    assertThat(ReportValidator.problem(withBatches(batch("b1", api, 1, Map.of("monthly", "-1")))))
        .get()
        .asString()
        .startsWith("batches[0].estimates[\"monthly\"]:");
    List<UsageReport.AdmittedBatch> many = new ArrayList<>();
    for (int i = 0; i <= ReportValidator.MAX_BATCHES; i++) {
      many.add(batch("b" + i, api, 1, Map.of()));
    }
    assertThat(ReportValidator.problem(report(List.of()).withBatches(many)))
        .get()
        .asString()
        .startsWith("batches:");
  }
}
