package dev.tollgate.sidecar;

import dev.tollgate.sidecar.config.ServerSettings;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.health.HealthListener;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.report.Reporter;
import dev.tollgate.sidecar.report.ReporterSettings;
import dev.tollgate.sidecar.runtime.ApiKeyStore;
import dev.tollgate.sidecar.runtime.ConfigSource;
import dev.tollgate.sidecar.runtime.ConfigWatcher;
import dev.tollgate.sidecar.server.ProxyContext;
import dev.tollgate.sidecar.server.SidecarServer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A running sidecar: configuration source and watcher, metrics, ledger and the server, wired by
 * hand. {@link SidecarMain} runs one per process; tests run one per test class.
 */
public final class Sidecar implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Sidecar.class);

  private final ConfigSource config;
  private final ConfigWatcher watcher;
  private final UsageLedger ledger;
  private final ProxyMetrics metrics;
  private final SidecarServer server;
  private final ServerSettings settings;
  private final ProxyContext px;
  private final Reporter reporter;
  private volatile HealthListener health;

  private Sidecar(
      Path configFile,
      Integer portOverride,
      int threads,
      Duration pollInterval,
      ReporterSettings reporting,
      Path spoolDir,
      Path secretsRoot)
      throws InterruptedException {
    long t0 = System.nanoTime();
    metrics = new ProxyMetrics();
    ledger = new UsageLedger();
    config = new ConfigSource(configFile, new ApiKeyStore(), metrics);
    config.secretsRoot(secretsRoot);
    config.reload();
    SidecarConfig initial = config.current();
    long tConfig = System.nanoTime();
    settings = initial == null ? ServerSettings.defaults() : initial.server();
    px = new ProxyContext(config, metrics, ledger);
    // credential limits are shared with the namespace's other pods: none before the first reply
    dev.tollgate.sidecar.budget.CredentialShares shares =
        reporting == null ? null : new dev.tollgate.sidecar.budget.CredentialShares(px.limits());
    config.onApplied(
        c -> {
          // the JDK's TLS stack loads only for a credential that trusts the system's CAs over https
          if (c.credentials().stream()
              .anyMatch(
                  cred ->
                      cred.caFile() == null
                          && (cred.endpoint() == null || !cred.endpoint().startsWith("http://")))) {
            px.upstream().prepareSystemTrust();
          }
          px.upstream()
              .prepareTrust(
                  c.credentials().stream()
                      .map(dev.tollgate.sidecar.config.CredentialConfig::caFile)
                      .filter(java.util.Objects::nonNull)
                      .toList());
          px.responseCaches().configure(c);
        });
    config.onPoll(
        c -> {
          px.identities().update(c.credentials());
          px.vertexTokens()
              .update(
                  c.credentials().stream()
                      .filter(
                          cred ->
                              cred.provider() == dev.tollgate.sidecar.config.ProviderKind.VERTEX_AI)
                      .map(dev.tollgate.sidecar.config.CredentialConfig::apiKeyFile)
                      .filter(java.util.Objects::nonNull)
                      .toList());
        });
    long tContext = System.nanoTime();
    server = new SidecarServer(px, threads);
    server.start(
        settings.bindAddress(), portOverride != null ? portOverride : settings.port(), settings);
    long tServer = System.nanoTime();
    watcher = new ConfigWatcher(config, pollInterval);
    watcher.start();
    ledger.onRecord(r -> px.budgetGate().recorded(r, config.current()));
    var workload = ReporterSettings.workloadFromEnv(System.getenv());
    if (workload != null) {
      metrics.workload(workload.kind(), workload.name(), workload.serviceAccount());
    }
    if (reporting != null) {
      reporter =
          new Reporter(reporting, ledger, config, px.budgetGate())
              .withTargetHealth(px.health()::snapshot)
              .withRefusalCounter(metrics::reportRefused)
              .withWorkload(workload);
      if (spoolDir != null) {
        reporter.withSpool(new dev.tollgate.sidecar.report.ReportSpool(spoolDir));
      }
      reporter.onReply(shares);
      reporter.onReply(new dev.tollgate.sidecar.report.ConfigFetcher(reporting, config));
      reporter.start();
    } else {
      reporter = null;
    }
    // where the start's time goes (issue #24: ready within a second)
    LOG.debug(
        "sidecar started in {} ms: metrics and configuration {} ms, call context {} ms, proxy"
            + " listener {} ms, watcher and reporter {} ms",
        ms(System.nanoTime() - t0),
        ms(tConfig - t0),
        ms(tContext - tConfig),
        ms(tServer - tContext),
        ms(System.nanoTime() - tServer));
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  /**
   * Starts a sidecar reading {@code configFile}.
   *
   * @param portOverride port to bind instead of the configured one (0: any free port), or null
   */
  public static Sidecar start(
      Path configFile, Integer portOverride, int threads, Duration pollInterval)
      throws InterruptedException {
    return new Sidecar(configFile, portOverride, threads, pollInterval, null, null, null);
  }

  /** Starts a sidecar that also reports to the operator ({@code reporting} null: it does not). */
  public static Sidecar start(
      Path configFile,
      Integer portOverride,
      int threads,
      Duration pollInterval,
      ReporterSettings reporting)
      throws InterruptedException {
    String spool = System.getenv("TOLLGATE_SPOOL_DIR");
    return new Sidecar(
        configFile,
        portOverride,
        threads,
        pollInterval,
        reporting,
        spool == null || spool.isBlank() ? null : Path.of(spool.trim()),
        null);
  }

  /**
   * Starts a reporting sidecar that keeps unacknowledged reports in {@code spoolDir} (the pod's
   * emptyDir; {@code TOLLGATE_SPOOL_DIR}) and first delivers what an earlier process left there.
   */
  public static Sidecar start(
      Path configFile,
      Integer portOverride,
      int threads,
      Duration pollInterval,
      ReporterSettings reporting,
      Path spoolDir)
      throws InterruptedException {
    return new Sidecar(configFile, portOverride, threads, pollInterval, reporting, spoolDir, null);
  }

  /**
   * As {@link #start(Path, Integer, int, Duration, ReporterSettings, Path)}, reading the Secrets
   * the configuration names under {@code /var/run/tollgate/secrets} from {@code secretsRoot}
   * instead (local mode and tests, which run sidecars outside a pod; the configuration text, and so
   * its integrity hash, stays the operator's).
   */
  public static Sidecar start(
      Path configFile,
      Integer portOverride,
      int threads,
      Duration pollInterval,
      ReporterSettings reporting,
      Path spoolDir,
      Path secretsRoot)
      throws InterruptedException {
    return new Sidecar(
        configFile, portOverride, threads, pollInterval, reporting, spoolDir, secretsRoot);
  }

  /**
   * Starts the probe and metrics listener ({@link HealthListener}), which the injected pod's probes
   * and the PodMonitor reach on the pod IP; it closes with the sidecar.
   */
  public HealthListener serveHealth(dev.tollgate.sidecar.config.HealthSettings settings)
      throws InterruptedException {
    health = HealthListener.start(settings, px, server.port());
    server.prepareFirstCalls();
    return health;
  }

  /**
   * Traces calls with {@code tracing} from now on (OpenTelemetry; {@link
   * dev.tollgate.sidecar.trace.Tracing#off()} until then); it is flushed and closed with the
   * sidecar.
   */
  public Sidecar traced(dev.tollgate.sidecar.trace.Tracing tracing) {
    px.tracing(tracing);
    return this;
  }

  /** The reporter, or null when the sidecar does not report. */
  public Reporter reporter() {
    return reporter;
  }

  public int port() {
    return server.port();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  public UsageLedger ledger() {
    return ledger;
  }

  public ProxyMetrics metrics() {
    return metrics;
  }

  /** The shared call state: routing health, rate limits and tier overrides among others. */
  public ProxyContext context() {
    return px;
  }

  public ConfigSource config() {
    return config;
  }

  /** Stops accepting and lets calls in flight finish for up to {@code grace}. */
  public void shutdown(Duration grace) {
    watcher.close();
    server.shutdown(grace);
    if (reporter != null) {
      // after the drain, so the final report holds every call that finished
      reporter.finish(Duration.ofSeconds(5));
    }
    px.responseCaches().close();
    // after the drain, so the spans of the last calls are exported
    px.tracing().close();
    if (health != null) {
      // last: readiness answers 503 (shutting down) while calls drain
      health.close();
    }
  }

  /** Shuts down with the configured grace period. */
  @Override
  public void close() {
    SidecarConfig c = config.current();
    shutdown(c == null ? settings.shutdownGrace() : c.server().shutdownGrace());
  }
}
