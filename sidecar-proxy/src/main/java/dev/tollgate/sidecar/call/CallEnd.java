package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.budget.CallerQuotas;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.metering.CallLog;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.metering.CostCalculator;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.metering.UsageLedger;

/**
 * The one exit of every call the sidecar makes, whatever its kind (a caller's call, the cheap half
 * of an escalation, a classifier call, a health probe): its cost, its metrics, its ledger line, its
 * spend against the caller's quota, and its call-log line.
 */
public final class CallEnd {
  private final ProxyMetrics metrics;
  private final UsageLedger ledger;
  private final CallerQuotas callers;
  private final CostCalculator costs;

  public CallEnd(
      ProxyMetrics metrics, UsageLedger ledger, CallerQuotas callers, CostCalculator costs) {
    this.metrics = metrics;
    this.ledger = ledger;
    this.callers = callers;
    this.costs = costs;
  }

  /** The exit of the calls made with {@code px}'s collaborators. */
  public static CallEnd of(dev.tollgate.sidecar.server.ProxyContext px) {
    return new CallEnd(px.metrics(), px.ledger(), px.budgetGate().callers(), px.costs());
  }

  /** What {@code usage} at {@code model} of {@code credential} cost; unpriced without usage. */
  public Cost cost(CredentialConfig credential, String model, Usage usage) {
    return usage == null || credential == null
        ? Cost.UNPRICED
        : costs.cost(credential, model, usage);
  }

  /**
   * Meters a call that ended: metrics always; the ledger and the caller's quota when a provider was
   * called (a call refused before choosing a target spent nothing); then the call-log line.
   */
  public void meter(CallRecord record, CallerQuotas.Caller caller) {
    metrics.ended(record);
    if (record.credential() != null) {
      ledger.record(record);
      callers.record(caller, record.cost().priced() ? record.cost().usd() : null);
    }
    CallLog.write(record);
  }
}
