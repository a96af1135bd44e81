package dev.tollgate.local;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorStats;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run's summary: what the sidecars' own ledgers say (requests, failovers, cost, caching), the
 * metering check against what the simulators served, and the write-back checks of the operator's
 * ledger and the resources' status against the sidecars'.
 */
final class Summary {
  private static final Map<String, String> SEED_TARGETS =
      Map.of(
          "customer-support",
          "$0.0017 per conversation (seed: 90% Groq Llama 3.1 70B at $0.00138, 10% Claude 3.5"
              + " Sonnet at $0.00399)");

  private final NamespacedKubernetesClient client;
  private final PrintStream out;
  private final LocalOptions options;
  private final List<Sidecar> sidecars;
  private final Simulators simulators;

  Summary(
      NamespacedKubernetesClient client,
      PrintStream out,
      LocalOptions options,
      List<Sidecar> sidecars,
      Simulators simulators) {
    this.client = client;
    this.out = out;
    this.options = options;
    this.sidecars = sidecars;
    this.simulators = simulators;
  }

  void print(Example example, TrafficDriver.Result result) {
    Map<UsageLedger.Key, long[]> byTarget = new LinkedHashMap<>();
    BigDecimal cost = BigDecimal.ZERO;
    long input = 0;
    long output = 0;
    long failovers = 0;
    long cacheRead = 0;
    long cacheWrite = 0;
    long cacheHits = 0;
    BigDecimal saved = BigDecimal.ZERO;
    for (Sidecar sidecar : sidecars) {
      UsageLedger.Totals total = sidecar.ledger().total();
      cacheHits += total.cacheHits();
      saved = saved.add(total.savedCostUsd());
      cost = cost.add(total.costUsd());
      cacheRead += total.cacheReadTokens();
      cacheWrite += total.cacheWriteTokens();
      input += total.inputTokens();
      output += total.outputTokens();
      failovers += total.failovers();
      sidecar
          .ledger()
          .snapshot()
          .forEach(
              (k, v) -> {
                long[] sums = byTarget.computeIfAbsent(k, x -> new long[2]);
                sums[0] += v.requests();
                sums[1] += v.errors().values().stream().mapToLong(Long::longValue).sum();
              });
    }
    out.println("Summary (from the sidecars' own ledgers)");
    out.printf(
        "  requests %d, succeeded %d (%.1f%%), streamed %d, failed %s%n",
        result.requests(),
        result.succeeded(),
        100.0 * result.succeeded() / result.requests(),
        result.streamed(),
        result.failuresByStatus().isEmpty()
            ? "none"
            : "by HTTP status " + result.failuresByStatus());
    out.printf(
        "  failovers %d, mean latency %d ms%n",
        failovers, result.totalLatencyMillis() / result.requests());
    out.printf(
        "  response cache: %d answers replayed (callers saw %d with x-tollgate-cache: hit), $%s"
            + " not spent%n",
        cacheHits, result.cacheHits(), saved.setScale(6, RoundingMode.HALF_UP).toPlainString());
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("  ROUTE", "TIER", "CREDENTIAL", "MODEL", "REQUESTS", "ERRORS"));
    byTarget.forEach(
        (k, v) ->
            rows.add(
                List.of(
                    "  " + k.route(),
                    String.valueOf(k.tier()),
                    String.valueOf(k.credential()),
                    String.valueOf(k.model()),
                    Long.toString(v[0]),
                    Long.toString(v[1]))));
    out.print(KubectlTable.format(rows));
    BigDecimal perRequest =
        result.succeeded() == 0
            ? BigDecimal.ZERO
            : cost.divide(BigDecimal.valueOf(result.succeeded()), 8, RoundingMode.HALF_UP);
    out.printf(
        "  cost $%s in total, $%s per answered request%n",
        cost.setScale(6, RoundingMode.HALF_UP).toPlainString(),
        perRequest.stripTrailingZeros().toPlainString());
    if (cacheRead + cacheWrite > 0) {
      out.printf(
          "  prompt cache: %d tokens read at the cache-read price, %d written (hit rate %.1f%%)%n",
          cacheRead, cacheWrite, 100.0 * cacheRead / (cacheRead + cacheWrite));
    }
    String target = SEED_TARGETS.get(options.example());
    if (target != null) {
      out.printf("  seed target: %s%n", target);
    }
    if (!options.realProviders()) {
      long servedIn = 0;
      long servedOut = 0;
      for (ProviderSimulator sim : simulators.of(example.namespace())) {
        SimulatorStats s = sim.stats();
        servedIn += s.inputTokens();
        servedOut += s.outputTokens();
      }
      out.printf(
          "  metering check: sidecars counted %d input / %d output tokens; simulators served %d /"
              + " %d: %s%n",
          input,
          output,
          servedIn,
          servedOut,
          input == servedIn && output == servedOut ? "match" : "MISMATCH");
    }
    String namespace = example.namespace();
    for (Budget b : client.resources(Budget.class).inNamespace(namespace).list().getItems()) {
      BudgetStatus st = b.getStatus();
      if (st == null || st.getSpent() == null) {
        continue;
      }
      out.printf(
          "  budget %s (status, from the sidecars' reports): spent $%s of $%s (%s%%), phase %s,"
              + " alerts fired %s, onExceeded %s%n",
          b.getMetadata().getName(),
          st.getSpent(),
          b.getSpec().getLimit(),
          st.getPercentUsed(),
          st.getPhase() == null ? "-" : st.getPhase().name(),
          st.getAlertsFired(),
          b.getSpec().getOnExceeded() == null ? "Block" : b.getSpec().getOnExceeded());
    }
    if (ConfigMapLedgerStore.resource(client, namespace).get() != null) {
      SpendLedger operatorLedger = ConfigMapLedgerStore.read(client, namespace);
      BigDecimal reported =
          operatorLedger.routes.values().stream()
              .map(r -> new BigDecimal(r.spent))
              .reduce(BigDecimal.ZERO, BigDecimal::add);
      out.printf(
          "  write-back check: operator's ledger $%s, sidecars' ledgers $%s: %s%n",
          reported.setScale(6, RoundingMode.HALF_UP).toPlainString(),
          cost.setScale(6, RoundingMode.HALF_UP).toPlainString(),
          reported.compareTo(cost) == 0 ? "match" : "MISMATCH");
      long reportedHits = operatorLedger.routes.values().stream().mapToLong(r -> r.cacheHits).sum();
      BigDecimal reportedSaved =
          operatorLedger.routes.values().stream()
              .map(r -> new BigDecimal(r.saved == null ? "0" : r.saved))
              .reduce(BigDecimal.ZERO, BigDecimal::add);
      out.printf(
          "  response cache check: operator's ledger %d hits saving $%s, sidecars' ledgers %d"
              + " hits saving $%s: %s%n",
          reportedHits,
          reportedSaved.setScale(6, RoundingMode.HALF_UP).toPlainString(),
          cacheHits,
          saved.setScale(6, RoundingMode.HALF_UP).toPlainString(),
          reportedHits == cacheHits && reportedSaved.compareTo(saved) == 0 ? "match" : "MISMATCH");
    }
    printCaching(namespace);
  }

  /** What caching did, as each route's status reports it (kubectl get llmroute -o yaml). */
  private void printCaching(String namespace) {
    for (LLMRoute r : client.resources(LLMRoute.class).inNamespace(namespace).list().getItems()) {
      LLMRouteStatus.RouteUsage u = r.getStatus() == null ? null : r.getStatus().getUsage();
      if (u == null) {
        continue;
      }
      out.printf(
          "  route %s (status): response cache hits %s (%s%% of requests), saved $%s; prompt"
              + " cache hit rate %s%%%n",
          r.getMetadata().getName(),
          u.getCacheHits() == null ? 0 : u.getCacheHits(),
          u.getCacheHitRatePercent() == null ? "0" : u.getCacheHitRatePercent(),
          u.getCacheSavings() == null ? "0" : u.getCacheSavings(),
          u.getPromptCacheHitRatePercent() == null ? "-" : u.getPromptCacheHitRatePercent());
    }
  }
}
