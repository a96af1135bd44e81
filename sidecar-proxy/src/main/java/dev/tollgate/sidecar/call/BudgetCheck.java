package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.budget.BudgetGate;
import dev.tollgate.sidecar.budget.CallerQuotas;
import dev.tollgate.sidecar.cache.ResponseCaches;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.wire.ProxyException;

/**
 * The gate stage: the route's budget as the operator last reported it (Block refuses with a 429,
 * Downgrade narrows the route to its cheaper tier or target before the tier is chosen), then the
 * caller's quota, which refuses a caller over it whatever the budget's action.
 */
final class BudgetCheck {
  private BudgetCheck() {}

  /**
   * Admits {@code call} on its route, narrowing {@code call.routeCfg} and naming {@code
   * call.caller}. A refusal is thrown, or returned when the response cache may still answer (a hit
   * costs nothing): the call then goes on to the lookup, and fails with it on a miss. Not with a
   * classifier: asking it would spend.
   *
   * @return the refusal a cache miss ends with, or null when admitted
   */
  static ProxyException admit(BudgetGate gate, ResponseCaches caches, CallState call) {
    RouteConfig resolved = call.routeCfg;
    try {
      call.routeCfg = gate.admit(resolved, call.cfg);
      call.caller =
          CallerQuotas.callerOf(call.cfg, call.routeCfg.budget(), call.callerHeaders::get);
      gate.callers().admit(call.caller, call.cfg.namespace(), call.routeCfg.model());
      if (call.routeCfg == resolved) {
        call.budgetHold = gate.hold(resolved.budget());
      }
      return null;
    } catch (ProxyException blocked) {
      if (!caches.caches(resolved) || resolved.classifier() != null) {
        throw blocked;
      }
      call.routeCfg = resolved;
      return blocked;
    }
  }
}
