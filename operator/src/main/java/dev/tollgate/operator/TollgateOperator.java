package dev.tollgate.operator;

import dev.tollgate.operator.controller.BudgetReconciler;
import dev.tollgate.operator.controller.LLMRouteReconciler;
import dev.tollgate.operator.controller.ProviderCredentialReconciler;
import dev.tollgate.operator.controller.SpendLedgers;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.operator.render.KubernetesConfigMapStore;
import dev.tollgate.operator.render.NamespaceRenderer;
import dev.tollgate.operator.render.SidecarConfigSync;
import dev.tollgate.operator.render.SidecarRecords;
import dev.tollgate.operator.status.KubernetesEventRecorder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
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
  private final Operator operator;

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
    operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client);
              o.withMetrics(metrics);
              o.withCloseClientOnStop(false);
              o.withConcurrentReconciliationThreads(config.reconcileThreads());
              // Server-side apply is the right way to patch status on a real API server; the
              // fabric8 mock server cannot do it (415), so tests switch to a JSON patch.
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
                        null,
                        exitOnLostLease));
              }
            });
    SidecarConfigSync sync =
        new SidecarConfigSync(
            new NamespaceRenderer(new SidecarRecords()),
            new KubernetesConfigMapStore(client),
            config.configMapName(),
            metrics);
    KubernetesEventRecorder events = new KubernetesEventRecorder(client, config.identity(), clock);
    // the report channel keeps the spend ledgers in the operator's namespace, out of tenants' reach
    SpendLedgers ledgers =
        new SpendLedgers(config.operatorNamespace(), ConfigMapLedgerStore.DEFAULT_NAME);
    operator.register(
        new LLMRouteReconciler(sync, events, clock, config.configMapName(), ledgers),
        scope(config));
    operator.register(new ProviderCredentialReconciler(events, clock, ledgers), scope(config));
    operator.register(
        new BudgetReconciler(events, clock, ledgers, metrics::budgetUsed), scope(config));
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

  public void start() {
    operator.start();
  }

  /** Started, and every informer is synced and watching. */
  public boolean isReady() {
    return operator.getRuntimeInfo().isStarted()
        && operator.getRuntimeInfo().allEventSourcesAreHealthy();
  }

  @Override
  public void close() {
    operator.stop();
  }
}
