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
    return later.toBuilder()
        .lines(new ArrayList<>(lines.values()))
        .callers(new ArrayList<>(callers.values()))
        .batches(concat(earlier.batches(), later.batches()))
        .attribution(attribution(earlier.attribution(), later.attribution()))
        .build();
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /** Spend by user and feature summed per route and key; the later report's workload. */
  private static UsageReport.Attribution attribution(
      UsageReport.Attribution a, UsageReport.Attribution b) {
    if (a == null || b == null) {
      return a == null ? b : new UsageReport.Attribution(a.workload(), a.users(), a.features());
    }
    return new UsageReport.Attribution(
        b.workload() != null ? b.workload() : a.workload(),
        keys(a.users(), b.users(), UsageReport.Attribution.MAX_USERS_PER_ROUTE),
        keys(a.features(), b.features(), UsageReport.Attribution.MAX_FEATURES_PER_ROUTE));
  }

  /** The sums per route and key, at most {@code max} keys per route (the rest in _other). */
  private static List<UsageReport.KeySpend> keys(
      List<UsageReport.KeySpend> a, List<UsageReport.KeySpend> b, int max) {
    Map<List<String>, UsageReport.KeySpend> out = new LinkedHashMap<>();
    for (UsageReport.KeySpend k : a) {
      out.put(java.util.Arrays.asList(k.route(), k.key()), k);
    }
    for (UsageReport.KeySpend k : b) {
      out.merge(
          java.util.Arrays.asList(k.route(), k.key()),
          k,
          (x, y) ->
              new UsageReport.KeySpend(
                  y.route(),
                  y.budget(),
                  y.key(),
                  x.requests() + y.requests(),
                  money(x.costUsd()).add(money(y.costUsd())).toPlainString()));
    }
    Map<String, List<UsageReport.KeySpend>> byRoute = new LinkedHashMap<>();
    out.values().forEach(k -> byRoute.computeIfAbsent(k.route(), r -> new ArrayList<>()).add(k));
    List<UsageReport.KeySpend> capped = new ArrayList<>();
    byRoute.forEach(
        (route, keys) -> {
          keys.sort(
              java.util.Comparator.comparing((UsageReport.KeySpend k) -> money(k.costUsd()))
                  .reversed()
                  .thenComparing(UsageReport.KeySpend::key));
          long otherRequests = 0;
          BigDecimal otherCost = BigDecimal.ZERO;
          int kept = 0;
          for (UsageReport.KeySpend k : keys) {
            if (!k.key().equals(UsageReport.Attribution.OTHER) && kept < max) {
              kept++;
              capped.add(k);
            } else {
              otherRequests += k.requests();
              otherCost = otherCost.add(money(k.costUsd()));
            }
          }
          if (otherRequests > 0) {
            capped.add(
                new UsageReport.KeySpend(
                    route,
                    keys.get(0).budget(),
                    UsageReport.Attribution.OTHER,
                    otherRequests,
                    otherCost.toPlainString()));
          }
        });
    return capped;
  }

  private static UsageReport.Line add(UsageReport.Line a, UsageReport.Line b) {
    return UsageReport.Line.builder(a.route(), a.tier(), a.credential(), a.model(), a.budget())
        .requests(a.requests() + b.requests())
        .inputTokens(a.inputTokens() + b.inputTokens())
        .outputTokens(a.outputTokens() + b.outputTokens())
        .cacheReadTokens(a.cacheReadTokens() + b.cacheReadTokens())
        .cacheWriteTokens(a.cacheWriteTokens() + b.cacheWriteTokens())
        .costUsd(money(a.costUsd()).add(money(b.costUsd())).toPlainString())
        .failovers(a.failovers() + b.failovers())
        .errors(sum(a.errors(), b.errors()))
        .failedAttempts(sum(a.failedAttempts(), b.failedAttempts()))
        .cacheHits(a.cacheHits() + b.cacheHits())
        .savedInputTokens(a.savedInputTokens() + b.savedInputTokens())
        .savedOutputTokens(a.savedOutputTokens() + b.savedOutputTokens())
        .savedCostUsd(money(a.savedCostUsd()).add(money(b.savedCostUsd())).toPlainString())
        .byEndpoint(sumEndpoints(a.byEndpoint(), b.byEndpoint()))
        .build();
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
