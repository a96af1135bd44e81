package dev.tollgate.operator.status;

import dev.tollgate.api.v1alpha1.Health;
import dev.tollgate.api.v1alpha1.ProviderCredentialStatus;
import dev.tollgate.operator.ledger.Accounting;
import dev.tollgate.operator.ledger.SpendLedger;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Projects the recent calls and provider errors the sidecars reported for a credential's models
 * onto its status: per model Healthy (under 5 % provider errors over the last minutes), Degraded
 * (under 50 %) or Unavailable, with the error rate, the last error kind (never a message, which
 * could hold request data) and how many pods reported it.
 *
 * <p>Time to first token: each live sidecar reports the p50 and p95 of its recent successful calls
 * per target. Percentiles do not add up, so the status shows an approximation that errs on the slow
 * side: p50 is the calls-weighted mean of the sidecars' medians, p95 the highest sidecar p95.
 */
public final class CredentialHealthStatus {
  private CredentialHealthStatus() {}

  /** Under 5 % provider errors Healthy, under 50 % Degraded, else Unavailable. */
  static Health stateAt(BigDecimal errorRatePercent) {
    return errorRatePercent.compareTo(BigDecimal.valueOf(5)) < 0
        ? Health.HEALTHY
        : errorRatePercent.compareTo(BigDecimal.valueOf(50)) < 0
            ? Health.DEGRADED
            : Health.UNAVAILABLE;
  }

  /** How long after its last report a sidecar's TTFT percentiles still count. */
  public static final java.time.Duration LIVE = java.time.Duration.ofSeconds(30);

  public static void apply(
      ProviderCredentialStatus status, String credential, SpendLedger ledger, Instant now) {
    long oldest = now.getEpochSecond() / 60 - Accounting.HEALTH_MINUTES;
    List<ProviderCredentialStatus.ModelHealth> models = new ArrayList<>();
    Health overall = null;
    for (Map.Entry<String, SpendLedger.TargetHealth> e : ledger.health.entrySet()) {
      if (!e.getKey().startsWith(credential + "/")) {
        continue;
      }
      long calls = 0;
      long errors = 0;
      for (Map.Entry<Long, long[]> m : e.getValue().minutes.entrySet()) {
        if (m.getKey() > oldest) {
          calls += m.getValue()[0];
          errors += m.getValue()[1];
        }
      }
      // pods that reported calls to it in the window, ended ones included
      long pods =
          ledger.reporters.values().stream()
              .filter(r -> r.called.getOrDefault(e.getKey(), Long.MIN_VALUE) > oldest)
              .count();
      if (calls == 0) {
        continue;
      }
      BigDecimal rate =
          BigDecimal.valueOf(errors * 100)
              .divide(BigDecimal.valueOf(calls), 1, RoundingMode.HALF_UP);
      Health state = stateAt(rate);
      ProviderCredentialStatus.ModelHealth h = new ProviderCredentialStatus.ModelHealth();
      h.setModel(e.getKey().substring(credential.length() + 1));
      h.setState(state);
      h.setErrorRatePercent(rate.toPlainString());
      h.setLastError(e.getValue().lastError);
      h.setLastErrorTime(e.getValue().lastErrorTime);
      h.setReportingPods((int) pods);
      ttft(h, credential, h.getModel(), ledger, now);
      models.add(h);
      overall = overall == null || state.ordinal() > overall.ordinal() ? state : overall;
    }
    // nothing reported lately: no health rather than a stale one
    status.setHealth(models);
    status.setOverallHealth(overall);
  }

  private static void ttft(
      ProviderCredentialStatus.ModelHealth h,
      String credential,
      String model,
      SpendLedger ledger,
      Instant now) {
    double weighted = 0;
    long weight = 0;
    long p95 = -1;
    for (SpendLedger.Reporter r : ledger.reporters.values()) {
      if (!r.live(now, LIVE)) {
        continue;
      }
      for (var t : r.targets) {
        if (!credential.equals(t.credential()) || !model.equals(t.model())) {
          continue;
        }
        if (t.ttftP50Millis() >= 0) {
          long w = Math.max(1, t.calls());
          weighted += (double) t.ttftP50Millis() * w;
          weight += w;
        }
        p95 = Math.max(p95, t.ttftP95Millis());
      }
    }
    if (weight > 0) {
      h.setTtftP50Millis(Math.round(weighted / weight));
    }
    if (p95 >= 0) {
      h.setTtftP95Millis(p95);
    }
  }
}
