package dev.tollgate.operator.ops;

import dev.tollgate.operator.render.SidecarConfigSync;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The operator's Prometheus metrics, fed by JOSDK through its {@link Metrics} hook: reconciles and
 * their outcome, failures and duration per controller, plus writes of sidecar ConfigMaps. Labels
 * hold controller names and outcomes only, never resource contents.
 */
public final class OperatorMetrics implements Metrics, SidecarConfigSync.WriteListener {
  private final PrometheusRegistry registry;
  private final Counter reconciles;
  private final Counter errors;
  private final Histogram duration;
  private final Counter configMapWrites;
  private final Gauge budgetUsed;
  private final Gauge budgetBatchSpent;

  public OperatorMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    reconciles =
        Counter.builder()
            .name("tollgate_operator_reconciles_total")
            .help("Reconciles (and cleanups) run, by controller and outcome")
            .labelNames("controller", "operation", "result")
            .register(registry);
    errors =
        Counter.builder()
            .name("tollgate_operator_reconcile_errors_total")
            .help("Reconciles that threw, by controller; JOSDK retries them")
            .labelNames("controller")
            .register(registry);
    duration =
        Histogram.builder()
            .name("tollgate_operator_reconcile_duration_seconds")
            .help("Time spent in one reconcile or cleanup, by controller")
            .labelNames("controller", "operation")
            .classicOnly()
            .classicUpperBounds(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
            .register(registry);
    configMapWrites =
        Counter.builder()
            .name("tollgate_operator_configmap_writes_total")
            .help("Writes of sidecar ConfigMaps, by kind of write; unchanged input writes nothing")
            .labelNames("operation")
            .register(registry);
    budgetUsed =
        Gauge.builder()
            .name("tollgate_budget_used_percent")
            .help(
                "Spend this period over the Budget's limit, in percent, as last written to status")
            .labelNames("namespace", "budget")
            .register(registry);
    budgetBatchSpent =
        Gauge.builder()
            .name("tollgate_budget_batch_spent_usd")
            .help(
                "USD that ended provider batches cost this period (part of the Budget's spend), as"
                    + " last written to status")
            .labelNames("namespace", "budget")
            .register(registry);
  }

  /** The Budget gauges, as the budget controller feeds them. */
  public dev.tollgate.operator.controller.BudgetReconciler.UsageGauge budgetGauges() {
    return new dev.tollgate.operator.controller.BudgetReconciler.UsageGauge() {
      @Override
      public void set(String namespace, String budget, double percentUsed) {
        budgetUsed(namespace, budget, percentUsed);
      }

      @Override
      public void batchSpent(String namespace, String budget, double usd) {
        budgetBatchSpent.labelValues(namespace, budget).set(usd);
      }
    };
  }

  /** Sets {@code tollgate_budget_used_percent} of one Budget. */
  public void budgetUsed(String namespace, String budget, double percent) {
    budgetUsed.labelValues(namespace, budget).set(percent);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  @Override
  public <T> T timeControllerExecution(ControllerExecution<T> execution) throws Exception {
    long start = System.nanoTime();
    String controller = execution.controllerName();
    try {
      T result = execution.execute();
      reconciles.labelValues(controller, execution.name(), execution.successTypeName(result)).inc();
      return result;
    } catch (Exception e) {
      reconciles.labelValues(controller, execution.name(), "error").inc();
      errors.labelValues(controller).inc();
      throw e;
    } finally {
      duration.labelValues(controller, execution.name()).observe((System.nanoTime() - start) / 1e9);
    }
  }

  @Override
  public void written(String namespace, SidecarConfigSync.Write write) {
    configMapWrites.labelValues(write.name().toLowerCase()).inc();
  }
}
