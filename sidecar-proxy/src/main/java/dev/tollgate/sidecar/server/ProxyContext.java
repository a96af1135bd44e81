package dev.tollgate.sidecar.server;

import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.metering.CostCalculator;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.provider.CloudIdentities;
import dev.tollgate.sidecar.provider.CredentialSecrets;
import dev.tollgate.sidecar.provider.vertex.VertexTokens;
import dev.tollgate.sidecar.routing.ActiveHealth;
import dev.tollgate.sidecar.routing.ClassifierLabels;
import dev.tollgate.sidecar.routing.HealthRegistry;
import dev.tollgate.sidecar.routing.RateLimits;
import dev.tollgate.sidecar.routing.TierOverrides;
import dev.tollgate.sidecar.runtime.ConfigSource;
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
  // priced with the cluster's price file of the configuration in force; rebuilt when it changes
  private volatile CostCalculator costs;
  private volatile dev.tollgate.sidecar.config.PriceFile costsFor;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Set<String> unpricedWarned = ConcurrentHashMap.newKeySet();
  private volatile boolean shuttingDown;
  private volatile dev.tollgate.sidecar.metering.Attribution.Headers attributionHeaders =
      dev.tollgate.sidecar.metering.Attribution.Headers.DEFAULT;
  private volatile dev.tollgate.sidecar.trace.Tracing tracing =
      dev.tollgate.sidecar.trace.Tracing.off();
  private final HealthRegistry health = new HealthRegistry();
  private final RateLimits limits = new RateLimits();
  private final ClassifierLabels classifierLabels = new ClassifierLabels();
  private final ActiveHealth activeHealth = new ActiveHealth();
  private final TierOverrides tierOverrides = new TierOverrides();
  private final VertexTokens vertexTokens = new VertexTokens(java.time.Duration.ofSeconds(30));
  private final CredentialSecrets secrets =
      new CredentialSecrets() {
        @Override
        public String apiKey(String file) {
          return config.keys().get(file);
        }

        @Override
        public String accessToken(String file) {
          return vertexTokens.token(file);
        }

        @Override
        public <T> T identity(dev.tollgate.sidecar.config.CredentialConfig credential) {
          return identities.<T>of(credential).current();
        }
      };
  private final CloudIdentities identities =
      new CloudIdentities(Duration.ofSeconds(5), java.time.Clock.systemUTC());
  private final dev.tollgate.sidecar.budget.BudgetGate budgetGate =
      new dev.tollgate.sidecar.budget.BudgetGate();

  private final dev.tollgate.sidecar.cache.ResponseCaches responseCaches;
  private final dev.tollgate.sidecar.call.StoredResponses storedResponses =
      new dev.tollgate.sidecar.call.StoredResponses();

  private final dev.tollgate.sidecar.call.OpenAiBatchFiles openAiBatchFiles =
      new dev.tollgate.sidecar.call.OpenAiBatchFiles(java.time.Clock.systemUTC());

  /** The estimates of the OpenAI batch input files this sidecar uploaded. */
  public dev.tollgate.sidecar.call.OpenAiBatchFiles openAiBatchFiles() {
    return openAiBatchFiles;
  }

  /** Which credential holds each stored Responses API response this sidecar created. */
  public dev.tollgate.sidecar.call.StoredResponses storedResponses() {
    return storedResponses;
  }

  public ProxyContext(ConfigSource config, ProxyMetrics metrics, UsageLedger ledger) {
    this.config = config;
    this.metrics = metrics;
    this.ledger = ledger;
    this.responseCaches = new dev.tollgate.sidecar.cache.ResponseCaches(metrics, ledger);
    this.upstream = new UpstreamClient(Duration.ofSeconds(55));
    this.costs = new CostCalculator(PriceCatalogue.builtIn());
    metrics.tokensPerDayUsed(
        () ->
            limits.dailyUse().stream()
                .map(d -> new ProxyMetrics.DailySample(d.scope(), d.name(), d.usedRatio()))
                .toList());
    metrics.circuitStates(
        () ->
            health.snapshot().stream()
                .map(
                    h ->
                        new ProxyMetrics.CircuitSample(
                            h.route(), h.provider(), h.model(), h.state().gaugeValue()))
                .toList());
  }

  /** The routes' response caches; configured from each applied configuration. */
  public dev.tollgate.sidecar.cache.ResponseCaches responseCaches() {
    return responseCaches;
  }

  public ConfigSource config() {
    return config;
  }

  /** Budget enforcement from the operator's live state; consulted once per call. */
  public dev.tollgate.sidecar.budget.BudgetGate budgetGate() {
    return budgetGate;
  }

  public VertexTokens vertexTokens() {
    return vertexTokens;
  }

  /** The cloud identities of credentials that authenticate without an API key. */
  public CloudIdentities identities() {
    return identities;
  }

  /** The API keys and access tokens calls present to providers. */
  public CredentialSecrets secrets() {
    return secrets;
  }

  /** Passive health of every route target; read by the reporting channel. */
  public HealthRegistry health() {
    return health;
  }

  /** Route, credential and caller rate limits; credential shares are replaceable at runtime. */
  public RateLimits limits() {
    return limits;
  }

  /** Results of the active health probes per credential. */
  public ActiveHealth activeHealth() {
    return activeHealth;
  }

  /** Tiers forced on routes at runtime (a budget's Downgrade). */
  public TierOverrides tierOverrides() {
    return tierOverrides;
  }

  public ClassifierLabels classifierLabels() {
    return classifierLabels;
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

  /**
   * Prices calls with the built-in catalogue and, over it, the cluster's price file of the
   * configuration in force (the operator renders the {@code tollgate-prices} ConfigMap into it).
   */
  public CostCalculator costs() {
    SidecarConfig current = config.current();
    dev.tollgate.sidecar.config.PriceFile prices = current == null ? null : current.prices();
    if (prices != costsFor) {
      synchronized (this) {
        if (prices != costsFor) {
          costs = new CostCalculator(PriceCatalogue.builtIn().withOverrides(prices));
          costsFor = prices;
        }
      }
    }
    return costs;
  }

  public AtomicInteger inFlight() {
    return inFlight;
  }

  /** True the first time an unpriced model is seen through a credential (to log it once). */
  public boolean firstUnpriced(String credential, String model) {
    return unpricedWarned.add(credential + "/" + model);
  }

  /**
   * The OpenTelemetry traces of calls ({@link dev.tollgate.sidecar.trace.Tracing#off()} by
   * default).
   */
  public dev.tollgate.sidecar.trace.Tracing tracing() {
    return tracing;
  }

  public void tracing(dev.tollgate.sidecar.trace.Tracing t) {
    tracing = t;
    metrics.droppedSpans(t::droppedSpans);
  }

  /** The headers that name a call's end user, feature and conversation. */
  public dev.tollgate.sidecar.metering.Attribution.Headers attributionHeaders() {
    return attributionHeaders;
  }

  public void attributionHeaders(dev.tollgate.sidecar.metering.Attribution.Headers h) {
    attributionHeaders = h;
  }

  public boolean shuttingDown() {
    return shuttingDown;
  }

  public void startShutdown() {
    shuttingDown = true;
  }
}
