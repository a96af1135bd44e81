package dev.tollgate.operator.controller;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.operator.status.BudgetSpendStatus;
import dev.tollgate.operator.status.CallerQuotaStatus;
import dev.tollgate.operator.status.EventRecorder;
import dev.tollgate.operator.status.Statuses;
import dev.tollgate.operator.validation.BudgetValidator;
import dev.tollgate.operator.validation.ClusterView;
import dev.tollgate.operator.validation.Problem;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles Budgets: checks the limit, the routes listed and the downgrade against the routes the
 * budget covers, and projects the namespace's spend ledger (written by the report channel) onto the
 * status, announcing each alert threshold once per period. A ledger write triggers a reconcile, so
 * status writes follow the ledger's group commits and happen only when the status changed.
 */
@ControllerConfiguration(name = BudgetReconciler.NAME)
public final class BudgetReconciler implements Reconciler<Budget> {
  public static final String NAME = "budget";
  private static final Logger LOG = LoggerFactory.getLogger(BudgetReconciler.class);

  /** Receives percent used per budget (the {@code tollgate_budget_used_percent} gauge). */
  public interface UsageGauge {
    void set(String namespace, String budget, double percentUsed);

    /** USD ended provider batches cost this period ({@code tollgate_budget_batch_spent_usd}). */
    default void batchSpent(String namespace, String budget, double usd) {}
  }

  private final EventRecorder events;
  private final Clock clock;
  private final SpendLedgers ledgerLocation;
  private final UsageGauge gauge;
  // Built from this controller's informers in prepareEventSources, before the first reconcile.
  private ClusterView view;
  private InformerEventSource<ConfigMap, Budget> ledgers;
  private InformerEventSource<ConfigMap, Budget> openBatches;

  public BudgetReconciler(EventRecorder events, Clock clock) {
    this(
        events,
        clock,
        new SpendLedgers(
            ConfigMapLedgerStore.DEFAULT_OPERATOR_NAMESPACE, ConfigMapLedgerStore.DEFAULT_NAME),
        (ns, b, pct) -> {});
  }

  /**
   * @param ledgerLocation where the report channel keeps the namespaces' spend ledgers
   */
  public BudgetReconciler(
      EventRecorder events, Clock clock, SpendLedgers ledgerLocation, UsageGauge gauge) {
    this(events, clock, ledgerLocation, gauge, Duration.ZERO);
  }

  /**
   * @param usageInterval a status change of spend figures only is patched at most this often per
   *     Budget; phase, conditions, thresholds and callers over quota go out at once
   */
  public BudgetReconciler(
      EventRecorder events,
      Clock clock,
      SpendLedgers ledgerLocation,
      UsageGauge gauge,
      Duration usageInterval) {
    this.events = events;
    this.clock = clock;
    this.ledgerLocation = ledgerLocation;
    this.gauge = gauge;
    this.throttle = new UsageThrottle(usageInterval, clock);
  }

  private final UsageThrottle throttle;

  /** Whether {@code now} differs from {@code old} beyond the spend figures. */
  static boolean significant(BudgetStatus old, BudgetStatus now) {
    return old == null
        || !Objects.equals(old.getObservedGeneration(), now.getObservedGeneration())
        || !Objects.equals(old.getConditions(), now.getConditions())
        || !Objects.equals(old.getPhase(), now.getPhase())
        || !Objects.equals(old.getPeriodStart(), now.getPeriodStart())
        || !Objects.equals(old.getPeriodEnd(), now.getPeriodEnd())
        || !Objects.equals(old.getAlertsFired(), now.getAlertsFired())
        || !Objects.equals(old.getCallersOverQuota(), now.getCallersOverQuota())
        || !Objects.equals(old.getHistory(), now.getHistory());
  }

  @Override
  public List<EventSource<?, Budget>> prepareEventSources(EventSourceContext<Budget> context) {
    IndexerResourceCache<Budget> budgets = context.getPrimaryCache();
    // Which routes a budget covers depends on every route and budget of the namespace.
    InformerEventSource<LLMRoute, Budget> routes =
        EventSources.informer(
            "routes",
            LLMRoute.class,
            context,
            r -> EventSources.ids(budgets.list(r.getMetadata().getNamespace()).toList()));
    InformerEventSource<ProviderCredential, Budget> credentials =
        EventSources.informer(
            "credentials",
            ProviderCredential.class,
            context,
            c -> EventSources.ids(budgets.list(c.getMetadata().getNamespace()).toList()));
    // Spend changes whenever the report channel commits a ledger write; only the ledger ConfigMap
    // matters here (the sidecar ConfigMaps are another controller's business).
    ledgers =
        ledgerLocation.informer(
            Budget.class, context, ns -> EventSources.ids(budgets.list(ns).toList()));
    openBatches =
        ledgerLocation.batchesInformer(
            Budget.class, context, ns -> EventSources.ids(budgets.list(ns).toList()));
    view = new InformerClusterView(routes, credentials, null, budgets);
    return List.of(routes, credentials, ledgers, openBatches);
  }

  @Override
  public UpdateControl<Budget> reconcile(Budget budget, Context<Budget> context) {
    return ReconcileLog.in(
        "Budget",
        budget,
        () -> {
          List<Problem> problems = BudgetValidator.validate(budget, view);
          Budget updated = Statuses.budget(budget, problems, clock.instant());
          List<Condition> old =
              budget.getStatus() == null ? null : budget.getStatus().getConditions();
          if (Statuses.changed(old, updated.getStatus().getConditions(), Conditions.ACCEPTED)
              && !problems.isEmpty()) {
            events.warning(
                budget,
                Statuses.transitionKey(
                    old, updated.getStatus().getConditions(), Conditions.ACCEPTED),
                problems.get(0).reason(),
                "Budget rejected: " + Problem.summarize(problems));
          }
          if (problems.isEmpty()) {
            writeSpend(budget, updated);
          }
          boolean changed = !Objects.equals(budget.getStatus(), updated.getStatus());
          if (changed) {
            Duration wait =
                throttle.hold(budget, significant(budget.getStatus(), updated.getStatus()));
            if (wait != null) {
              return UpdateControl.<Budget>noUpdate().rescheduleAfter(wait);
            }
          }
          ReconcileLog.outcome(LOG, changed, updated.getStatus().getConditions());
          return changed ? UpdateControl.patchStatus(updated) : UpdateControl.noUpdate();
        });
  }

  private void writeSpend(Budget budget, Budget updated) {
    String namespace = budget.getMetadata().getNamespace();
    String name = budget.getMetadata().getName();
    SpendLedger ledger = ledgerLocation.of(ledgers, namespace).orElseGet(SpendLedger::new);
    dev.tollgate.operator.status.BatchesCondition.apply(
        budget,
        updated.getStatus(),
        ledgerLocation.batchesOf(openBatches, namespace),
        clock.instant());
    List<Integer> fresh =
        BudgetSpendStatus.apply(
            budget, updated.getStatus(), ledger.budgets.get(name), clock.instant());
    for (Integer threshold : fresh) {
      events.warning(
          budget,
          "threshold:" + updated.getStatus().getPeriodStart() + ":" + threshold,
          "ThresholdReached",
          "Budget "
              + name
              + " reached "
              + threshold
              + "% of its limit ("
              + updated.getStatus().getSpent()
              + " of "
              + budget.getSpec().getLimit()
              + " USD spent in the period from "
              + updated.getStatus().getPeriodStart()
              + ")");
    }
    for (String caller :
        CallerQuotaStatus.newlyOverQuota(budget.getStatus(), updated.getStatus())) {
      // the key as the sidecars report it: a pseudonym when the budget hashes keys
      events.warning(
          budget,
          "caller-quota:" + updated.getStatus().getPeriodStart() + ":" + caller,
          "CallerQuotaExceeded",
          "Caller "
              + caller
              + " of budget "
              + name
              + " spent its quota of "
              + budget.getSpec().getPerCaller().getLimit()
              + " USD in the period from "
              + updated.getStatus().getPeriodStart()
              + "; sidecars refuse its calls until "
              + updated.getStatus().getPeriodEnd()
              + " or until the quota is raised");
    }
    gauge.set(namespace, name, Double.parseDouble(updated.getStatus().getPercentUsed()));
    String batch = updated.getStatus().getBatchSpent();
    gauge.batchSpent(namespace, name, batch == null ? 0 : Double.parseDouble(batch));
  }
}
