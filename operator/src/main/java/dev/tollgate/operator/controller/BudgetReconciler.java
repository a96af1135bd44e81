package dev.tollgate.operator.controller;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.status.EventRecorder;
import dev.tollgate.operator.status.Statuses;
import dev.tollgate.operator.validation.BudgetValidator;
import dev.tollgate.operator.validation.ClusterView;
import dev.tollgate.operator.validation.Problem;
import io.fabric8.kubernetes.api.model.Condition;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles Budgets: checks the limit, the routes listed and the downgrade against the routes the
 * budget covers. Spend, thresholds and enforcement come with the sidecars' reports.
 */
@ControllerConfiguration(name = BudgetReconciler.NAME)
public final class BudgetReconciler implements Reconciler<Budget> {
  public static final String NAME = "budget";
  private static final Logger LOG = LoggerFactory.getLogger(BudgetReconciler.class);

  private final EventRecorder events;
  private final Clock clock;
  // Built from this controller's informers in prepareEventSources, before the first reconcile.
  private ClusterView view;

  public BudgetReconciler(EventRecorder events, Clock clock) {
    this.events = events;
    this.clock = clock;
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
    view = new InformerClusterView(routes, credentials, null, budgets);
    return List.of(routes, credentials);
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
          boolean changed = !Objects.equals(budget.getStatus(), updated.getStatus());
          ReconcileLog.outcome(LOG, changed, updated.getStatus().getConditions());
          return changed ? UpdateControl.patchStatus(updated) : UpdateControl.noUpdate();
        });
  }
}
