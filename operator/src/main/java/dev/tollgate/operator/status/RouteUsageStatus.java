package dev.tollgate.operator.status;

import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.operator.report.SpendLedger;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Projects a route's entry of the spend ledger onto its status: usage this calendar month and the
 * share of requests each target actually served.
 */
public final class RouteUsageStatus {
  private RouteUsageStatus() {}

  /** How many live sidecars of the namespace (reported within {@code live}) run {@code version}. */
  public static void rollout(
      LLMRouteStatus status,
      SpendLedger ledger,
      String version,
      java.time.Instant now,
      java.time.Duration live) {
    if (version == null) {
      return;
    }
    List<SpendLedger.Reporter> reporters =
        ledger.reporters.values().stream()
            .filter(
                r ->
                    r.lastSeen != null
                        && java.time.Instant.parse(r.lastSeen).plus(live).isAfter(now))
            .toList();
    if (reporters.isEmpty()) {
      return;
    }
    LLMRouteStatus.SidecarRollout r = new LLMRouteStatus.SidecarRollout();
    r.setConfigVersion(version);
    r.setTotal(reporters.size());
    r.setUpToDate((int) reporters.stream().filter(x -> version.equals(x.configVersion)).count());
    status.setSidecars(r);
  }

  /** Writes usage and target shares into {@code status} (a fresh copy); null usage: none yet. */
  public static void apply(LLMRouteStatus status, SpendLedger.RouteUsage usage) {
    if (usage == null) {
      return;
    }
    LLMRouteStatus.RouteUsage u = new LLMRouteStatus.RouteUsage();
    u.setPeriodStart(usage.periodStart);
    u.setRequests(usage.requests);
    u.setErrors(usage.errors);
    u.setInputTokens(usage.inputTokens);
    u.setOutputTokens(usage.outputTokens);
    u.setCacheReadTokens(usage.cacheReadTokens);
    u.setCacheWriteTokens(usage.cacheWriteTokens);
    u.setSpend(BudgetSpendStatus.money(new BigDecimal(usage.spent)));
    u.setFailovers(usage.failovers);
    // hits are calls too: the rate is of all calls, the provider's and the cache's
    u.setCacheHits(usage.cacheHits);
    long calls = usage.requests + usage.cacheHits;
    u.setCacheHitRatePercent(
        calls == 0
            ? "0"
            : BigDecimal.valueOf(usage.cacheHits * 100)
                .divide(BigDecimal.valueOf(calls), 1, RoundingMode.HALF_UP)
                .toPlainString());
    u.setCacheSavings(
        BudgetSpendStatus.money(new BigDecimal(usage.saved == null ? "0" : usage.saved)));
    status.setUsage(u);
    List<LLMRouteStatus.TargetStatus> targets = new ArrayList<>();
    for (Map.Entry<String, Long> e : usage.targets.entrySet()) {
      String[] parts = e.getKey().split("/", 2);
      LLMRouteStatus.TargetStatus t = new LLMRouteStatus.TargetStatus();
      t.setCredential(parts[0]);
      t.setModel(parts.length > 1 ? parts[1] : null);
      t.setRequests(e.getValue());
      t.setSharePercent(
          usage.requests == 0
              ? "0"
              : BigDecimal.valueOf(e.getValue() * 100)
                  .divide(BigDecimal.valueOf(usage.requests), 1, RoundingMode.HALF_UP)
                  .toPlainString());
      targets.add(t);
    }
    status.setTargets(targets);
  }
}
