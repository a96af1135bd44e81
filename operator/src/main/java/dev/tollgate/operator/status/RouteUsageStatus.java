package dev.tollgate.operator.status;

import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.operator.ledger.SpendLedger;
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
        ledger.reporters.values().stream().filter(r -> r.live(now, live)).toList();
    if (reporters.isEmpty()) {
      return;
    }
    LLMRouteStatus.SidecarRollout r = new LLMRouteStatus.SidecarRollout();
    r.setConfigVersion(version);
    r.setTotal(reporters.size());
    r.setUpToDate((int) reporters.stream().filter(x -> version.equals(x.configVersion)).count());
    status.setSidecars(r);
  }

  /** Cache reads / (reads + writes) in percent with one decimal, or null when neither happened. */
  static String promptCacheHitRatePercent(long read, long write) {
    if (read + write <= 0) {
      return null;
    }
    return BigDecimal.valueOf(read * 100)
        .divide(BigDecimal.valueOf(read + write), 1, RoundingMode.HALF_UP)
        .toPlainString();
  }

  /**
   * Ready stays true only while every live sidecar runs the current configuration: when {@code
   * status.sidecars} (just computed for {@code version}) counts some on another version, Ready
   * turns false with reason {@code RollingOut}. {@code before} are the conditions the route had, so
   * that an unchanged rollout keeps its transition time.
   */
  public static void readyWhenRolledOut(
      LLMRouteStatus status,
      List<io.fabric8.kubernetes.api.model.Condition> before,
      String version,
      Long generation,
      java.time.Instant now) {
    LLMRouteStatus.SidecarRollout r = status.getSidecars();
    if (version == null
        || r == null
        || !version.equals(r.getConfigVersion())
        || r.getTotal() == null
        || r.getUpToDate() == null
        || r.getUpToDate() >= r.getTotal()
        || !dev.tollgate.api.status.Conditions.isTrue(
            status.getConditions(), dev.tollgate.api.status.Conditions.READY)) {
      return;
    }
    List<io.fabric8.kubernetes.api.model.Condition> base = new ArrayList<>();
    for (io.fabric8.kubernetes.api.model.Condition c : status.getConditions()) {
      if (!dev.tollgate.api.status.Conditions.READY.equals(c.getType())) {
        base.add(c);
      }
    }
    dev.tollgate.api.status.Conditions.find(before, dev.tollgate.api.status.Conditions.READY)
        .ifPresent(base::add);
    status.setConditions(
        dev.tollgate.api.status.Conditions.set(
            base,
            dev.tollgate.api.status.Conditions.READY,
            false,
            "RollingOut",
            r.getUpToDate()
                + " of "
                + r.getTotal()
                + " live sidecars run configuration "
                + version
                + "; the others still run an older one until the kubelet updates their mounted"
                + " ConfigMap or they fetch it from the operator",
            generation,
            now));
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
    u.setPromptCacheHitRatePercent(
        promptCacheHitRatePercent(usage.cacheReadTokens, usage.cacheWriteTokens));
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
    if (usage.byEndpoint != null && !usage.byEndpoint.isEmpty()) {
      Map<String, LLMRouteStatus.EndpointUsage> byEndpoint = new java.util.TreeMap<>();
      usage.byEndpoint.forEach(
          (kind, e) -> {
            LLMRouteStatus.EndpointUsage eu = new LLMRouteStatus.EndpointUsage();
            eu.setRequests(e.requests);
            eu.setInputTokens(e.inputTokens);
            eu.setOutputTokens(e.outputTokens);
            eu.setSpend(BudgetSpendStatus.money(new BigDecimal(e.spent)));
            byEndpoint.put(kind, eu);
          });
      u.setByEndpoint(byEndpoint);
    }
    u.setTopUsers(BudgetSpendStatus.top(usage.byUser));
    u.setTopFeatures(BudgetSpendStatus.top(usage.byFeature));
    u.setByWorkload(BudgetSpendStatus.top(usage.byWorkload));
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

  /**
   * Sets each target's circuit and health from what the live sidecars last reported for {@code
   * route}: the circuit is the worst any sidecar has (Open over HalfOpen over Closed, since one
   * sidecar's open circuit already shifts its traffic), and health comes from the calls-weighted
   * error rate (under 5 % Healthy, under 50 % Degraded, else Unavailable; Unavailable while any
   * circuit is open). A target no sidecar has called yet has neither. Targets with a reported
   * circuit but no usage this period are listed with zero requests.
   */
  public static void circuits(
      LLMRouteStatus status,
      SpendLedger ledger,
      String route,
      java.time.Instant now,
      java.time.Duration live) {
    Map<String, Agg> byTarget = new java.util.TreeMap<>();
    for (SpendLedger.Reporter r : ledger.reporters.values()) {
      if (!r.live(now, live)) {
        continue;
      }
      for (var t : r.targets) {
        if (route.equals(t.route())) {
          byTarget.computeIfAbsent(t.credential() + "/" + t.model(), k -> new Agg()).add(t);
        }
      }
    }
    if (byTarget.isEmpty()) {
      return;
    }
    List<LLMRouteStatus.TargetStatus> targets = new ArrayList<>(status.getTargets());
    for (Map.Entry<String, Agg> e : byTarget.entrySet()) {
      String[] parts = e.getKey().split("/", 2);
      LLMRouteStatus.TargetStatus t =
          targets.stream()
              .filter(
                  x ->
                      parts[0].equals(x.getCredential())
                          && (parts.length > 1 ? parts[1] : "").equals(x.getModel()))
              .findFirst()
              .orElseGet(
                  () -> {
                    LLMRouteStatus.TargetStatus n = new LLMRouteStatus.TargetStatus();
                    n.setCredential(parts[0]);
                    n.setModel(parts.length > 1 ? parts[1] : null);
                    n.setRequests(0L);
                    n.setSharePercent("0");
                    targets.add(n);
                    return n;
                  });
      Agg a = e.getValue();
      t.setTier(a.tier);
      t.setCircuit(a.circuit);
      t.setHealth(a.health());
    }
    status.setTargets(targets);
  }

  private static final class Agg {
    String tier;
    String circuit = "Closed";
    long calls;
    double failed;

    void add(dev.tollgate.sidecar.config.report.UsageReport.TargetState t) {
      tier = tier == null ? t.tier() : tier;
      if (rank(t.circuit()) > rank(circuit)) {
        circuit = t.circuit();
      }
      calls += t.calls();
      failed += t.calls() * (double) t.errorRatePercent() / 100.0;
    }

    dev.tollgate.api.v1alpha1.Health health() {
      if ("Open".equals(circuit)) {
        return dev.tollgate.api.v1alpha1.Health.UNAVAILABLE;
      }
      dev.tollgate.api.v1alpha1.Health byErrors =
          calls == 0
              ? null
              : CredentialHealthStatus.stateAt(BigDecimal.valueOf(failed * 100.0 / calls));
      // a half-open circuit is at best Degraded: one sidecar is still probing the target
      return "HalfOpen".equals(circuit)
              && (byErrors == null || byErrors == dev.tollgate.api.v1alpha1.Health.HEALTHY)
          ? dev.tollgate.api.v1alpha1.Health.DEGRADED
          : byErrors;
    }

    private static int rank(String circuit) {
      return switch (String.valueOf(circuit)) {
        case "Open" -> 2;
        case "HalfOpen" -> 1;
        default -> 0;
      };
    }
  }
}
