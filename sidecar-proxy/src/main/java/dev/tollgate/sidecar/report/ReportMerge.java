package dev.tollgate.sidecar.report;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Folds two consecutive reports of one process into one aggregate report, so that the spool stays
 * bounded while the operator is away without dropping usage: every count and amount is summed per
 * line (route, tier, credential, model, budget) and per caller, admitted batches are kept; the
 * aggregate takes the later report's sequence, configuration version and target health.
 */
final class ReportMerge {
  private ReportMerge() {}

  static UsageReport merge(UsageReport earlier, UsageReport later) {
    Map<List<String>, UsageReport.Line> lines = new LinkedHashMap<>();
    for (UsageReport r : List.of(earlier, later)) {
      for (UsageReport.Line l : r.lines()) {
        lines.merge(
            java.util.Arrays.asList(l.route(), l.tier(), l.credential(), l.model(), l.budget()),
            l,
            ReportMerge::add);
      }
    }
    Map<List<String>, UsageReport.CallerSpend> callers = new LinkedHashMap<>();
    for (UsageReport r : List.of(earlier, later)) {
      for (UsageReport.CallerSpend c : r.callers()) {
        callers.merge(
            java.util.Arrays.asList(c.budget(), c.caller()),
            c,
            (a, b) ->
                new UsageReport.CallerSpend(
                    a.budget(),
                    a.caller(),
                    a.requests() + b.requests(),
                    money(a.costUsd()).add(money(b.costUsd())).toPlainString()));
      }
    }
    return new UsageReport(
        later.namespace(),
        later.pod(),
        later.podUid(),
        later.bootId(),
        later.sequence(),
        later.configVersion(),
        new ArrayList<>(lines.values()),
        later.targets(),
        later.last(),
        new ArrayList<>(callers.values()),
        concat(earlier.batches(), later.batches()));
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static UsageReport.Line add(UsageReport.Line a, UsageReport.Line b) {
    return new UsageReport.Line(
        a.route(),
        a.tier(),
        a.credential(),
        a.model(),
        a.budget(),
        a.requests() + b.requests(),
        a.inputTokens() + b.inputTokens(),
        a.outputTokens() + b.outputTokens(),
        a.cacheReadTokens() + b.cacheReadTokens(),
        a.cacheWriteTokens() + b.cacheWriteTokens(),
        money(a.costUsd()).add(money(b.costUsd())).toPlainString(),
        a.failovers() + b.failovers(),
        sum(a.errors(), b.errors()),
        sum(a.failedAttempts(), b.failedAttempts()),
        a.cacheHits() + b.cacheHits(),
        a.savedInputTokens() + b.savedInputTokens(),
        a.savedOutputTokens() + b.savedOutputTokens(),
        money(a.savedCostUsd()).add(money(b.savedCostUsd())).toPlainString(),
        sumEndpoints(a.byEndpoint(), b.byEndpoint()));
  }

  private static Map<String, UsageReport.EndpointUsage> sumEndpoints(
      Map<String, UsageReport.EndpointUsage> a, Map<String, UsageReport.EndpointUsage> b) {
    Map<String, UsageReport.EndpointUsage> out = new java.util.TreeMap<>(a);
    b.forEach(
        (k, v) ->
            out.merge(
                k,
                v,
                (x, y) ->
                    new UsageReport.EndpointUsage(
                        x.requests() + y.requests(),
                        x.inputTokens() + y.inputTokens(),
                        x.outputTokens() + y.outputTokens(),
                        money(x.costUsd()).add(money(y.costUsd())).toPlainString())));
    return out;
  }

  private static Map<String, Long> sum(Map<String, Long> a, Map<String, Long> b) {
    Map<String, Long> out = new HashMap<>(a);
    b.forEach((k, v) -> out.merge(k, v, Long::sum));
    return out;
  }

  private static BigDecimal money(String s) {
    return s == null || s.isBlank() ? BigDecimal.ZERO : new BigDecimal(s);
  }
}
