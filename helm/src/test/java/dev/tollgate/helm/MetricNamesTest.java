package dev.tollgate.helm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.wire.ErrorKind;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The dashboard and the alerts query metrics the sidecar or the operator really exports. Metrics
 * that later work will add are listed as pending, and the test fails once they exist so the list
 * stays true.
 */
class MetricNamesTest {
  /** Queried by the dashboard or alerts, exported once the named work lands. */
  private static final Set<String> PENDING =
      Set.of(); // none right now: every queried metric is exported

  private static final Pattern METRIC = Pattern.compile("\\btollgate_[a-z_]+\\b");

  @Test
  void everyQueriedMetricIsExportedOrPending() throws Exception {
    Set<String> queried = new TreeSet<>();
    collect(Files.readString(HelmChart.CHART.resolve("files/dashboards/tollgate.json")), queried);
    collect(Files.readString(HelmChart.CHART.resolve("templates/prometheusrule.yaml")), queried);
    Set<String> exported = exportedBySidecar();
    exported.addAll(exportedByOperator());

    Set<String> missing = new TreeSet<>(queried);
    missing.removeAll(exported);
    missing.removeAll(PENDING);
    assertThat(missing).as("queried but exported by nothing (exported: %s)", exported).isEmpty();
    assertThat(PENDING).as("exported now: remove from PENDING").noneMatch(exported::contains);
    assertThat(queried).contains("tollgate_cost_usd_total", "tollgate_tokens_total");
  }

  private static Set<String> exportedBySidecar() {
    // Metrics without samples are not written out, so record one complete call first.
    ProxyMetrics metrics = new ProxyMetrics();
    metrics.started("support-chat");
    metrics.ended(
        CallRecord.builder()
            .requestId("req-1")
            .api("openai")
            .route("support-chat")
            .tier("chat")
            .target("anthropic", "anthropic", "claude-3-5-sonnet-20241022")
            .outcome(200, null)
            .usage(new Usage(1200, 150, 800, 100), true)
            .cost(new Cost(new BigDecimal("0.004"), true))
            .timing(1_000_000_000L, 300_000_000L)
            .finishReason("stop")
            .upstreamStatus(200)
            .build());
    metrics.started("support-chat");
    metrics.ended(
        CallRecord.builder()
            .requestId("req-2")
            .api("openai")
            .route("support-chat")
            .tier("chat")
            .target("groq", "groq", "llama-3.1-70b-versatile")
            .stream(true)
            .outcome(502, ErrorKind.UPSTREAM_ERROR)
            .usage(null, false)
            .cost(new Cost(BigDecimal.ZERO, true))
            .timing(2_000_000L, -1L)
            .upstreamStatus(500)
            .build());
    // a call naming its end user and feature (the bounded attribution series), and a conversation
    // that reaches the cost threshold with it, from a pod whose workload the webhook named
    metrics.workload("Deployment", "support", "support-sa");
    metrics.conversationCosts(
        new dev.tollgate.sidecar.metering.ConversationCosts(new BigDecimal("0.001")));
    metrics.started("support-chat");
    metrics.ended(
        CallRecord.builder()
            .requestId("req-3")
            .route("support-chat")
            .target("openai", "openai", "gpt-4o-mini")
            .outcome(200, null)
            .usage(new Usage(100, 10, 0, 0), true)
            .cost(new Cost(new BigDecimal("0.001"), true))
            .timing(500_000_000L, 200_000_000L)
            .attribution(
                new dev.tollgate.sidecar.metering.Attribution(
                    "alice", "faq", "conv-1", null, null, null, 0),
                0)
            .build());
    metrics.failover("support-chat", "groq", "llama-3.1-70b-versatile");
    // a response cache hit, and what it saved
    metrics.cacheResult("support-chat", "hit");
    metrics.cacheSaved("support-chat", new Usage(1200, 150, 0, 0), new BigDecimal("0.004"));
    // a route with a tokens-per-day limit (the gauge is read at each scrape)
    metrics.tokensPerDayUsed(
        () -> java.util.List.of(new ProxyMetrics.DailySample("route", "support-chat", 0.42)));
    String text = new String(metrics.scrape(), StandardCharsets.UTF_8);
    Set<String> names = new TreeSet<>();
    Matcher type = Pattern.compile("(?m)^# TYPE (\\S+) (\\S+)$").matcher(text);
    while (type.find()) {
      String name = type.group(1);
      names.add(name);
      if (type.group(2).equals("histogram")) {
        names.add(name + "_bucket");
        names.add(name + "_sum");
        names.add(name + "_count");
      }
    }
    return names;
  }

  private static Set<String> exportedByOperator() {
    OperatorMetrics metrics = new OperatorMetrics(new PrometheusRegistry());
    // a gauge without a sample is not exported either
    metrics.budgetUsed("team-a", "monthly", 42.0);
    Set<String> names = new TreeSet<>();
    for (MetricSnapshot m : metrics.registry().scrape()) {
      if (m.getDataPoints().isEmpty()) {
        continue;
      }
      String name = m.getMetadata().getPrometheusName();
      names.add(m instanceof CounterSnapshot ? name + "_total" : name);
    }
    return names;
  }

  private static void collect(String text, Set<String> into) {
    Matcher m = METRIC.matcher(text);
    while (m.find()) {
      String name = m.group();
      // Template helpers and rule names are not metrics.
      if (!name.startsWith("tollgate_operator") || name.endsWith("_total")) {
        into.add(name);
      }
    }
  }
}
