package dev.tollgate.operator.controller;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.render.ConfigMapConflictException;
import dev.tollgate.operator.render.SidecarConfigSync;
import dev.tollgate.operator.status.EventRecorder;
import dev.tollgate.operator.status.RouteUsageStatus;
import dev.tollgate.operator.status.Statuses;
import dev.tollgate.operator.validation.ClusterView;
import dev.tollgate.operator.validation.Pricing;
import dev.tollgate.operator.validation.Problem;
import dev.tollgate.operator.validation.RouteValidator;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles LLMRoutes: renders the route's namespace into its sidecar ConfigMap and reports
 * whether the route made it in. Credentials, their Secrets, Budgets and routes competing for the
 * same model name are watched so that a change to any of them re-renders the routes that depend on
 * it. Routes carry a finalizer so that a deleted route is taken out of the configuration.
 */
@ControllerConfiguration(name = LLMRouteReconciler.NAME)
public final class LLMRouteReconciler implements Reconciler<LLMRoute>, Cleaner<LLMRoute> {
  public static final String NAME = "llmroute";
  private static final Logger LOG = LoggerFactory.getLogger(LLMRouteReconciler.class);
  private static final String CREDENTIAL_INDEX = "credential";
  private static final Set<String> CONFLICTS = Set.of("ModelConflict", "DefaultConflict");
  private static final Set<String> SECRET_REASONS = Set.of("SecretNotFound", "SecretKeyNotFound");

  private final SidecarConfigSync sync;
  private final EventRecorder events;
  private final Clock clock;
  private final String configMapName;
  private final ReferencedSecrets secrets;
  private final java.time.Duration secretRecheck;
  // Built from this controller's informers in prepareEventSources, before the first reconcile.
  private ClusterView view;

  private InformerEventSource<ConfigMap, LLMRoute> ledgers;
  // a sidecar that has not reported for this long no longer counts in status.sidecars
  private static final java.time.Duration SIDECAR_LIVENESS = java.time.Duration.ofSeconds(30);

  private final SpendLedgers ledgerLocation;
  // the platform team's price ConfigMap (null: built-in prices only, as in some tests)
  private ClusterPrices clusterPrices;
  private InformerEventSource<ConfigMap, LLMRoute> prices;

  /**
   * Reads the cluster's prices from {@code clusterPrices} (registered before the operator starts).
   */
  public LLMRouteReconciler withClusterPrices(ClusterPrices clusterPrices) {
    this.clusterPrices = clusterPrices;
    return this;
  }

  private final CacheKeySecrets cacheKeys;

  /**
   * @param secrets the Secrets credentials and Redis caches reference, read on demand
   * @param secretRecheck when a route is rejected because a Secret or key is missing, how soon it
   *     looks again (there is no Secret watch)
   * @param ledgerLocation where the report channel keeps the namespaces' spend ledgers
   * @param cacheKeys creates the namespace's Redis cache key for routes that cache in Redis (null:
   *     never, as in tests without Redis)
   */
  public LLMRouteReconciler(
      SidecarConfigSync sync,
      EventRecorder events,
      Clock clock,
      String configMapName,
      ReferencedSecrets secrets,
      java.time.Duration secretRecheck,
      SpendLedgers ledgerLocation,
      CacheKeySecrets cacheKeys) {
    this.cacheKeys = cacheKeys;
    this.secrets = secrets;
    this.secretRecheck = secretRecheck;
    this.sync = sync;
    this.events = events;
    this.clock = clock;
    this.configMapName = configMapName;
    this.ledgerLocation = ledgerLocation;
  }

  @Override
  public List<EventSource<?, LLMRoute>> prepareEventSources(EventSourceContext<LLMRoute> context) {
    IndexerResourceCache<LLMRoute> routes = context.getPrimaryCache();
    routes.addIndexers(Map.of(CREDENTIAL_INDEX, LLMRouteReconciler::credentialKeys));
    InformerEventSource<ProviderCredential, LLMRoute> credentials =
        EventSources.informer(
            "credentials",
            ProviderCredential.class,
            context,
            c ->
                EventSources.ids(
                    routes.byIndex(
                        CREDENTIAL_INDEX,
                        EventSources.key(
                            c.getMetadata().getNamespace(), c.getMetadata().getName()))),
            EventSources::credentialChanged);
    // Budget resolution is namespace-wide (a route without budgetRef draws from the Budget that
    // lists it or covers the namespace), so any Budget change concerns every route there.
    InformerEventSource<Budget, LLMRoute> budgets =
        EventSources.informer(
            "budgets",
            Budget.class,
            context,
            b -> EventSources.ids(routes.list(b.getMetadata().getNamespace()).toList()));
    // A route that lost a model-name conflict must be re-checked when the winner changes or goes.
    InformerEventSource<LLMRoute, LLMRoute> peers =
        EventSources.informer(
            "peer-routes",
            LLMRoute.class,
            context,
            r ->
                EventSources.ids(
                    routes
                        .list(r.getMetadata().getNamespace(), other -> competes(r, other))
                        .toList()));
    // Usage written back by the report channel: the namespace's spend ledger ConfigMap.
    ledgers =
        ledgerLocation.informer(
            LLMRoute.class, context, ns -> EventSources.ids(routes.list(ns).toList()));
    view = new InformerClusterView(routes, credentials, secrets::cached, budgets);
    if (clusterPrices == null) {
      return List.of(credentials, budgets, peers, ledgers);
    }
    // new cluster prices change every namespace's rendering and every route's Priced condition
    prices =
        clusterPrices.informer(
            LLMRoute.class, context, () -> EventSources.ids(routes.list().toList()));
    return List.of(credentials, budgets, peers, ledgers, prices);
  }

  private UsageThrottle throttle = new UsageThrottle(java.time.Duration.ZERO, Clock.systemUTC());

  /**
   * Patches a status change of usage figures only (requests, tokens, spend, target shares) at most
   * this often per route; conditions, tiers, rollout and target health go out at once.
   */
  public LLMRouteReconciler usageInterval(java.time.Duration interval) {
    this.throttle = new UsageThrottle(interval, clock);
    return this;
  }

  /** Whether {@code now} differs from {@code old} beyond usage figures. */
  static boolean significant(LLMRouteStatus old, LLMRouteStatus now) {
    if (old == null
        || !Objects.equals(old.getObservedGeneration(), now.getObservedGeneration())
        || !Objects.equals(old.getConditions(), now.getConditions())
        || !Objects.equals(old.getTiers(), now.getTiers())
        || !Objects.equals(old.getSidecars(), now.getSidecars())
        || old.getTargets().size() != now.getTargets().size()
        || (old.getUsage() == null) != (now.getUsage() == null)) {
      return true;
    }
    for (int i = 0; i < now.getTargets().size(); i++) {
      LLMRouteStatus.TargetStatus a = old.getTargets().get(i);
      LLMRouteStatus.TargetStatus b = now.getTargets().get(i);
      if (!Objects.equals(a.getTier(), b.getTier())
          || !Objects.equals(a.getCredential(), b.getCredential())
          || !Objects.equals(a.getModel(), b.getModel())
          || !Objects.equals(a.getRole(), b.getRole())
          || !Objects.equals(a.getHealth(), b.getHealth())
          || !Objects.equals(a.getCircuit(), b.getCircuit())) {
        return true;
      }
    }
    return old.getUsage() != null
        && !Objects.equals(old.getUsage().getPeriodStart(), now.getUsage().getPeriodStart());
  }

  @Override
  public UpdateControl<LLMRoute> reconcile(LLMRoute route, Context<LLMRoute> context) {
    return ReconcileLog.in(
        "LLMRoute",
        route,
        () -> {
          String ns = route.getMetadata().getNamespace();
          if (clusterPrices != null) {
            clusterPrices.observe(prices);
          }
          ensureCacheKey(route, ns);
          SidecarConfigSync.Result result = sync.sync(ns, view);
          RouteValidator.Result verdict =
              Optional.ofNullable(result.rendering().verdicts().get(route.getMetadata().getName()))
                  // not in the cache yet (we were handed a newer copy): judge it on its own
                  .orElseGet(() -> RouteValidator.validate(route, view));
          LLMRoute updated = Statuses.route(route, verdict, configMapName, clock.instant());
          if (route.getSpec() != null) {
            ledgerLocation
                .of(ledgers, ns)
                .ifPresent(
                    l -> {
                      RouteUsageStatus.apply(
                          updated.getStatus(), l.routes.get(route.getSpec().getModel()));
                      RouteUsageStatus.rollout(
                          updated.getStatus(),
                          l,
                          result.version().orElse(null),
                          clock.instant(),
                          SIDECAR_LIVENESS);
                      RouteUsageStatus.circuits(
                          updated.getStatus(),
                          l,
                          route.getSpec().getModel(),
                          clock.instant(),
                          SIDECAR_LIVENESS);
                      RouteUsageStatus.readyWhenRolledOut(
                          updated.getStatus(),
                          route.getStatus() == null ? null : route.getStatus().getConditions(),
                          result.version().orElse(null),
                          route.getMetadata().getGeneration(),
                          clock.instant());
                    });
          }
          announce(route, updated, verdict);
          announceUnpriced(route, updated);
          LOG.debug("namespace configuration {}", result.version().orElse("none"));
          boolean changed = !Objects.equals(route.getStatus(), updated.getStatus());
          if (changed) {
            java.time.Duration wait =
                throttle.hold(route, significant(route.getStatus(), updated.getStatus()));
            if (wait != null) {
              return UpdateControl.<LLMRoute>noUpdate().rescheduleAfter(wait);
            }
          }
          ReconcileLog.outcome(LOG, changed, updated.getStatus().getConditions());
          UpdateControl<LLMRoute> control =
              changed ? UpdateControl.patchStatus(updated) : UpdateControl.noUpdate();
          // No Secret watch: a missing Secret or key is looked for again after a while.
          return waitsForSecret(updated) ? control.rescheduleAfter(secretRecheck) : control;
        });
  }

  /**
   * The key must exist before pods mount it; without it the sidecars cache in memory only (their
   * metric tollgate_response_cache_redis_unkeyed_total says so), so a failure here does not stop
   * the render.
   */
  private void ensureCacheKey(LLMRoute route, String ns) {
    if (cacheKeys == null || !CacheKeySecrets.usesRedis(route)) {
      return;
    }
    try {
      cacheKeys.ensure(ns);
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      LOG.warn(
          "could not create Secret {}/{} ({} {}): the route's sidecars cache in memory only, not in"
              + " Redis; check the operator's RBAC (create on secrets in this namespace)",
          ns,
          dev.tollgate.sidecar.config.CacheKeySecret.NAME,
          e.getCode(),
          e.getStatus() == null ? e.getMessage() : e.getStatus().getMessage());
    }
  }

  private static boolean waitsForSecret(LLMRoute route) {
    return Conditions.find(route.getStatus().getConditions(), Conditions.ACCEPTED)
        .map(c -> SECRET_REASONS.contains(c.getReason()))
        .orElse(false);
  }

  @Override
  public DeleteControl cleanup(LLMRoute route, Context<LLMRoute> context) {
    return ReconcileLog.in(
        "LLMRoute",
        route,
        () -> {
          // The cache holds the route with its deletion timestamp, so the render leaves it out.
          SidecarConfigSync.Result result = sync.sync(route.getMetadata().getNamespace(), view);
          LOG.info(
              "route deleted; removed from the sidecar configuration ({})",
              result.version().orElse("ConfigMap removed, no routes left"));
          return DeleteControl.defaultDelete();
        });
  }

  @Override
  public ErrorStatusUpdateControl<LLMRoute> updateErrorStatus(
      LLMRoute route, Context<LLMRoute> context, Exception e) {
    return ReconcileLog.in(
        "LLMRoute",
        route,
        () -> {
          // A foreign ConfigMap in the way cannot be fixed by retrying; the periodic resync (or a
          // change to the route) tries again after a person removed it.
          boolean permanent = e instanceof ConfigMapConflictException;
          LOG.warn("reconcile failed{}: {}", permanent ? " (no retry)" : "", e.getMessage());
          LLMRoute fresh =
              Statuses.routeNotRendered(
                  route,
                  permanent ? "ConfigMapConflict" : "RenderFailed",
                  "Could not write the sidecar configuration: " + e.getMessage(),
                  clock.instant());
          ErrorStatusUpdateControl<LLMRoute> control = ErrorStatusUpdateControl.patchStatus(fresh);
          return permanent ? control.withNoRetry() : control;
        });
  }

  /** One Event per transition of Accepted: rejected (and why), or accepted again. */
  private void announce(LLMRoute before, LLMRoute after, RouteValidator.Result verdict) {
    List<Condition> old = before.getStatus() == null ? null : before.getStatus().getConditions();
    if (!Statuses.changed(old, after.getStatus().getConditions(), Conditions.ACCEPTED)) {
      return;
    }
    String transition =
        Statuses.transitionKey(old, after.getStatus().getConditions(), Conditions.ACCEPTED);
    if (!verdict.valid()) {
      events.warning(
          before,
          transition,
          verdict.problems().get(0).reason(),
          "Route rejected: " + Problem.summarize(verdict.problems()));
    } else if (Conditions.find(old, Conditions.ACCEPTED).isPresent()) {
      events.normal(
          before,
          transition,
          "Accepted",
          "Route accepted and rendered into the sidecar configuration");
    }
  }

  /** A Warning Event when the route starts calling a model without a price. */
  private void announceUnpriced(LLMRoute before, LLMRoute after) {
    List<Condition> old = before.getStatus() == null ? null : before.getStatus().getConditions();
    List<Condition> now = after.getStatus().getConditions();
    Optional<Condition> priced = Conditions.find(now, Conditions.PRICED);
    if (priced.isEmpty()
        || Conditions.isTrue(now, Conditions.PRICED)
        || !Statuses.changed(old, now, Conditions.PRICED)) {
      return;
    }
    events.warning(
        before,
        Statuses.transitionKey(old, now, Conditions.PRICED),
        priced.get().getReason(),
        priced.get().getMessage());
  }

  private static List<String> credentialKeys(LLMRoute route) {
    if (route.getSpec() == null) {
      return List.of();
    }
    String ns = route.getMetadata().getNamespace();
    return Pricing.targets(route.getSpec())
        .map(t -> EventSources.key(ns, t.getCredential()))
        .distinct()
        .toList();
  }

  /** Whether {@code other} may be accepted or rejected depending on {@code changed}. */
  private static boolean competes(LLMRoute changed, LLMRoute other) {
    if (changed.getSpec() == null
        || other.getSpec() == null
        || other.getMetadata().getName().equals(changed.getMetadata().getName())) {
      return false;
    }
    boolean lostConflict =
        other.getStatus() != null
            && Conditions.find(other.getStatus().getConditions(), Conditions.ACCEPTED)
                .map(c -> CONFLICTS.contains(c.getReason()))
                .orElse(false);
    return lostConflict
        || Objects.equals(changed.getSpec().getModel(), other.getSpec().getModel())
        || (Boolean.TRUE.equals(changed.getSpec().getDefaultRoute())
            && Boolean.TRUE.equals(other.getSpec().getDefaultRoute()));
  }
}
