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
import java.util.function.BiPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one exit of every call the sidecar makes, whatever its kind (a caller's call, the cheap half
 * of an escalation, a classifier call, a health probe): its cost, its metrics, its ledger line, its
 * spend against the caller's quota, and its call-log line.
 */
public final class CallEnd {
  private static final Logger LOG = LoggerFactory.getLogger(CallEnd.class);

  private final ProxyMetrics metrics;
  private final UsageLedger ledger;
  private final CallerQuotas callers;
  private final CostCalculator costs;
  private final BiPredicate<String, String> firstUnpriced;

  /**
   * @param firstUnpriced true the first time a credential and model without a price is seen
   */
  public CallEnd(
      ProxyMetrics metrics,
      UsageLedger ledger,
      CallerQuotas callers,
      CostCalculator costs,
      BiPredicate<String, String> firstUnpriced) {
    this.metrics = metrics;
    this.ledger = ledger;
    this.callers = callers;
    this.costs = costs;
    this.firstUnpriced = firstUnpriced;
  }

  /** The exit of the calls made with {@code px}'s collaborators. */
  public static CallEnd of(dev.tollgate.sidecar.server.ProxyContext px) {
    return new CallEnd(
        px.metrics(), px.ledger(), px.budgetGate().callers(), px.costs(), px::firstUnpriced);
  }

  /** What {@code usage} at {@code model} of {@code credential} cost; unpriced without usage. */
  public Cost cost(CredentialConfig credential, String model, Usage usage) {
    return usage == null || credential == null
        ? Cost.UNPRICED
        : costs.cost(credential, model, usage);
  }

  /** Logs once per credential and model that a caller's call was counted but not priced. */
  void warnIfUnpriced(CallRecord r) {
    if (r.usage() != null && !r.cost().priced() && firstUnpriced.test(r.credential(), r.model())) {
      LOG.warn(
          "model {} of credential {} has no price in the catalogue or the credential's overrides; its calls are counted but not priced",
          r.model(),
          r.credential());
    }
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
