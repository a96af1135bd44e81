package dev.tollgate.operator;

import dev.tollgate.operator.controller.BudgetReconciler;
import dev.tollgate.operator.controller.CacheKeySecrets;
import dev.tollgate.operator.controller.ClusterPrices;
import dev.tollgate.operator.controller.LLMRouteReconciler;
import dev.tollgate.operator.controller.ProviderCredentialReconciler;
import dev.tollgate.operator.controller.ReferencedSecrets;
import dev.tollgate.operator.controller.SpendLedgers;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.operator.render.KubernetesConfigMapStore;
import dev.tollgate.operator.render.NamespaceRenderer;
import dev.tollgate.operator.render.RenderedConfigs;
import dev.tollgate.operator.render.SidecarConfigSync;
import dev.tollgate.operator.render.SidecarRecords;
import dev.tollgate.operator.status.KubernetesEventRecorder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The operator assembled by hand from its configuration: the three reconcilers, the sidecar
 * ConfigMap sync they share, Events, metrics and leader election, on one JOSDK {@link Operator}.
 * {@link OperatorMain} runs it against a cluster; tests run it against the mock API server.
 */
public final class TollgateOperator implements AutoCloseable {
  /** How long {@link #close()} waits for the reconciles in flight (a status patch or two each). */
  static final Duration RECONCILE_DRAIN = Duration.ofSeconds(10);

  /** Referenced Secrets kept (key names only); a namespace rarely references more than a few. */
  private static final int SECRET_CACHE_ENTRIES = 1_000;

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(TollgateOperator.class);

  private final Operator operator;
  private final boolean leaderElection;
  private final Runnable onStartLeading;
  private final Runnable onStopLeading;
  private final SidecarConfigSync sync;
  private final java.util.concurrent.atomic.AtomicBoolean leading =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * @param exitOnLostLease end the process when leadership is lost (production: a replica that lost
   *     the Lease must not keep reconciling); tests turn it off and stop the operator instead
   */
  public TollgateOperator(
      OperatorConfig config,
      KubernetesClient client,
      OperatorMetrics metrics,
      Clock clock,
      boolean exitOnLostLease) {
    this(config, client, metrics, clock, exitOnLostLease, () -> {}, () -> {});
  }

  /**
   * @param onStartLeading run when this replica becomes the leader (or at {@link #start()} without
   *     leader election), before the controllers start: what only one replica may do (the report
   *     endpoint, which writes the spend ledgers)
   * @param onStopLeading run when this replica stops leading or is closed while leading, before the
   *     process exits on a lost Lease
   */
  public TollgateOperator(
      OperatorConfig config,
      KubernetesClient client,
      OperatorMetrics metrics,
      Clock clock,
      boolean exitOnLostLease,
      Runnable onStartLeading,
      Runnable onStopLeading) {
    this.leaderElection = config.leaderElection();
    this.onStartLeading = onStartLeading;
    this.onStopLeading = onStopLeading;
    operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client);
              o.withMetrics(metrics);
              o.withCloseClientOnStop(false);
              // JOSDK's default is not to wait: stop() would interrupt the reconciles in flight
              // and return, and the caller's next step, closing the client, would fail their
              // status patches ("Client already closed"). Let them finish first.
              o.withReconciliationTerminationTimeout(RECONCILE_DRAIN);
              o.withConcurrentReconciliationThreads(config.reconcileThreads());
              // Status is a JSON patch by default: the style the tests exercise (fabric8's mock
              // server answers 415 to server-side apply). --status-ssa=true switches to SSA, which
              // only the opt-in -Pkube-api tests run against a real API server.
              o.withUseSSAToPatchPrimaryResource(config.useSsaForStatus());
              if (config.leaderElection()) {
                Duration lease = config.leaseDuration();
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(
                        config.leaseName(),
                        config.operatorNamespace(),
                        lease,
                        lease.multipliedBy(2).dividedBy(3),
                        lease.dividedBy(7),
                        config.identity(),
                        new LeaderCallbacks(
                            this::startLeading,
                            this::stopLeading,
                            leader -> LOG.info("leader is now {}", leader)),
                        exitOnLostLease));
              }
            });
    sync =
        new SidecarConfigSync(
            new NamespaceRenderer(new SidecarRecords()),
            new KubernetesConfigMapStore(client),
            config.configMapName(),
            metrics);
    KubernetesEventRecorder events = new KubernetesEventRecorder(client, config.identity(), clock);
    // Secrets are read by name when needed, never listed or watched (see ReferencedSecrets)
    ReferencedSecrets secrets =
        new ReferencedSecrets(client, config.secretRecheck(), SECRET_CACHE_ENTRIES, clock);
    // the report channel keeps the spend ledgers in the operator's namespace, out of tenants' reach
    SpendLedgers ledgers =
        new SpendLedgers(config.operatorNamespace(), ConfigMapLedgerStore.DEFAULT_NAME);
    // the platform team's prices, in the operator's namespace too (README "Updating prices")
    ClusterPrices prices =
        new ClusterPrices(config.operatorNamespace(), ClusterPrices.DEFAULT_NAME, events);
    operator.register(
        new LLMRouteReconciler(
                sync,
                events,
                clock,
                config.configMapName(),
                secrets,
                config.secretRecheck(),
                ledgers,
                new CacheKeySecrets(client))
            .withClusterPrices(prices)
            .usageInterval(config.statusUsageInterval()),
        scope(config));
    operator.register(
        new ProviderCredentialReconciler(events, clock, secrets, config.secretRecheck(), ledgers)
            .withClusterPrices(prices),
        scope(config));
    operator.register(
        new BudgetReconciler(
            events, clock, ledgers, metrics.budgetGauges(), config.statusUsageInterval()),
        scope(config));
  }

  private static <P extends HasMetadata> Consumer<ControllerConfigurationOverrider<P>> scope(
      OperatorConfig config) {
    return o -> {
      if (config.watchesAllNamespaces()) {
        o.watchingAllNamespaces();
      } else {
        o.settingNamespaces(config.watchNamespaces());
      }
      o.withReconciliationMaxInterval(config.resyncInterval());
    };
  }

  /**
   * The sidecar configuration this operator rendered per namespace: what the report channel
   * announces and serves, never the tenant-writable ConfigMap.
   */
  public RenderedConfigs renderedConfigs() {
    return sync.rendered();
  }

  /**
   * Keeps the report endpoint's CA bundle ({@code caPem}, as it is now) in the ConfigMap {@code
   * tollgate-report-ca} next to every namespace's configuration; injected sidecars mount it. Call
   * before {@link #start()}, and {@link #reportCaChanged()} after a rotation.
   */
  public void publishReportCa(java.util.function.Supplier<String> caPem) {
    sync.publishReportCa(caPem);
  }

  /** The report endpoint's CA changed: rewrites every namespace's CA bundle ConfigMap. */
  public void reportCaChanged() {
    sync.refreshReportCa();
  }

  public void start() {
    operator.start();
    if (!leaderElection) {
      startLeading();
    }
  }

  /** Whether this replica leads now (always, after start, without leader election). */
  public boolean isLeading() {
    return leading.get();
  }

  private void startLeading() {
    if (leading.compareAndSet(false, true)) {
      onStartLeading.run();
    }
  }

  private void stopLeading() {
    if (leading.compareAndSet(true, false)) {
      onStopLeading.run();
    }
  }

  /** Started, and every informer is synced and watching. */
  public boolean isReady() {
    return operator.getRuntimeInfo().isStarted()
        && operator.getRuntimeInfo().allEventSourcesAreHealthy();
  }

  /**
   * Stops the informers, then waits up to {@link #RECONCILE_DRAIN} for the reconciles in flight to
   * finish; close the client only after this returns.
   */
  @Override
  public void close() {
    operator.stop();
    stopLeading();
  }
}
