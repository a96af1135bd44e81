package dev.tollgate.sidecar.server;

import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.metering.CostCalculator;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.runtime.ConfigSource;
import dev.tollgate.sidecar.runtime.VertexTokens;
import dev.tollgate.sidecar.upstream.UpstreamClient;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The collaborators every call uses, shared by all connections. */
public final class ProxyContext {
  private final ConfigSource config;
  private final UpstreamClient upstream;
  private final ProxyMetrics metrics;
  private final UsageLedger ledger;
  private final CostCalculator costs;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Set<String> unpricedWarned = ConcurrentHashMap.newKeySet();
  private volatile boolean shuttingDown;
  private final VertexTokens vertexTokens = new VertexTokens(java.time.Duration.ofSeconds(30));
  private final dev.tollgate.sidecar.report.BudgetGate budgetGate =
      new dev.tollgate.sidecar.report.BudgetGate();

  public ProxyContext(ConfigSource config, ProxyMetrics metrics, UsageLedger ledger) {
    this.config = config;
    this.metrics = metrics;
    this.ledger = ledger;
    this.upstream = new UpstreamClient(Duration.ofSeconds(55));
    this.costs = new CostCalculator(PriceCatalogue.builtIn());
  }

  public ConfigSource config() {
    return config;
  }

  /** Budget enforcement from the operator's live state; consulted once per call. */
  public dev.tollgate.sidecar.report.BudgetGate budgetGate() {
    return budgetGate;
  }

  public VertexTokens vertexTokens() {
    return vertexTokens;
  }

  public UpstreamClient upstream() {
    return upstream;
  }

  public ProxyMetrics metrics() {
    return metrics;
  }

  public UsageLedger ledger() {
    return ledger;
  }

  public CostCalculator costs() {
    return costs;
  }

  public AtomicInteger inFlight() {
    return inFlight;
  }

  /** True the first time an unpriced model is seen through a credential (to log it once). */
  boolean firstUnpriced(String credential, String model) {
    return unpricedWarned.add(credential + "/" + model);
  }

  public boolean shuttingDown() {
    return shuttingDown;
  }

  public void startShutdown() {
    shuttingDown = true;
  }
}
