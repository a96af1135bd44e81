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
        ledger.reporters.values().stream().filter(r -> r.liveAt(now, live)).toList();
    if (reporters.isEmpty()) {
      return;
    }
    LLMRouteStatus.SidecarRollout r = new LLMRouteStatus.SidecarRollout();
    r.setConfigVersion(version);
    r.setTotal(reporters.size());
    r.setUpToDate((int) reporters.stream().filter(x -> version.equals(x.configVersion)).count());
    status.setSidecars(r);
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
