package dev.tollgate.operator.controller;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.status.CredentialHealthStatus;
import dev.tollgate.operator.status.EventRecorder;
import dev.tollgate.operator.status.Statuses;
import dev.tollgate.operator.validation.ClusterView;
import dev.tollgate.operator.validation.CredentialValidator;
import dev.tollgate.operator.validation.Pricing;
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
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles ProviderCredentials: validates them, resolves the API key Secret (by name and key; the
 * value is dropped as soon as the Secret is read) and flags models that routes send through the
 * credential without a price. Routes are watched so that status follows them; the Secret is read by
 * name on every reconcile and again every {@code TOLLGATE_SECRET_RECHECK}, as there is no Secret
 * informer ({@link ReferencedSecrets}).
 */
@ControllerConfiguration(name = ProviderCredentialReconciler.NAME)
public final class ProviderCredentialReconciler implements Reconciler<ProviderCredential> {
  public static final String NAME = "providercredential";
  private static final Logger LOG = LoggerFactory.getLogger(ProviderCredentialReconciler.class);

  private final EventRecorder events;
  private final Clock clock;
  // Built from this controller's informers in prepareEventSources, before the first reconcile.
  private ClusterView view;
  private InformerEventSource<ConfigMap, ProviderCredential> ledgers;
  private final ReferencedSecrets secrets;
  private final java.time.Duration secretRecheck;

  private final SpendLedgers ledgerLocation;
  // the platform team's price ConfigMap (null: built-in prices only, as in some tests)
  private ClusterPrices clusterPrices;
  private InformerEventSource<ConfigMap, ProviderCredential> prices;

  /**
   * Reads the cluster's prices from {@code clusterPrices} (registered before the operator starts).
   */
  public ProviderCredentialReconciler withClusterPrices(ClusterPrices clusterPrices) {
    this.clusterPrices = clusterPrices;
    return this;
  }

  /**
   * @param secrets where the referenced Secrets are read
   * @param secretRecheck how often a credential's Secret is read again
   * @param ledgerLocation where the report channel keeps the namespaces' spend ledgers
   */
  public ProviderCredentialReconciler(
      EventRecorder events,
      Clock clock,
      ReferencedSecrets secrets,
      java.time.Duration secretRecheck,
      SpendLedgers ledgerLocation) {
    this.secrets = secrets;
    this.secretRecheck = secretRecheck;
    this.events = events;
    this.clock = clock;
    this.ledgerLocation = ledgerLocation;
  }

  @Override
  public List<EventSource<?, ProviderCredential>> prepareEventSources(
      EventSourceContext<ProviderCredential> context) {
    IndexerResourceCache<ProviderCredential> credentials = context.getPrimaryCache();
    // A route that stops using a credential must clear its unpriced models too, and the mapper
    // only sees the route's new spec, so every credential of the namespace is re-checked.
    InformerEventSource<LLMRoute, ProviderCredential> routes =
        EventSources.informer(
            "routes",
            LLMRoute.class,
            context,
            r -> EventSources.ids(credentials.list(r.getMetadata().getNamespace()).toList()));
    // Health reported by the sidecars: the namespace's spend ledger ConfigMap.
    ledgers =
        ledgerLocation.informer(
            ProviderCredential.class,
            context,
            ns -> EventSources.ids(credentials.list(ns).toList()));
    // No Secret informer (see ReferencedSecrets): a Secret is read again once it is older than the
    // recheck interval, or on every reconcile while it is missing
    view = new InformerClusterView(routes, credentials, secrets::unlessMissing, null);
    if (clusterPrices == null) {
      return List.of(routes, ledgers);
    }
    prices =
        clusterPrices.informer(
            ProviderCredential.class, context, () -> EventSources.ids(credentials.list().toList()));
    return List.of(routes, ledgers, prices);
  }

  @Override
  public UpdateControl<ProviderCredential> reconcile(
      ProviderCredential credential, Context<ProviderCredential> context) {
    return ReconcileLog.in(
        "ProviderCredential",
        credential,
        () -> {
          if (clusterPrices != null) {
            clusterPrices.observe(prices);
          }
          CredentialValidator.Result result = CredentialValidator.validate(credential, view);
          List<LLMRoute> routes = view.routes(credential.getMetadata().getNamespace());
          List<String> unpriced = Pricing.unpricedModels(credential, routes);
          List<String> unmatched = Pricing.unmatchedOverrides(credential, routes);
          ProviderCredential updated =
              Statuses.credential(credential, result, unpriced, unmatched, clock.instant());
          ledgerLocation
              .of(ledgers, credential.getMetadata().getNamespace())
              .ifPresent(
                  l ->
                      CredentialHealthStatus.apply(
                          updated.getStatus(),
                          credential.getMetadata().getName(),
                          l,
                          clock.instant()));
          announce(credential, updated, result);
          announcePriced(credential, updated);
          boolean changed = !Objects.equals(credential.getStatus(), updated.getStatus());
          ReconcileLog.outcome(LOG, changed, updated.getStatus().getConditions());
          UpdateControl<ProviderCredential> control =
              changed ? UpdateControl.patchStatus(updated) : UpdateControl.noUpdate();
          // No Secret watch: the referenced Secret is read again after a while, so that a Secret
          // created, changed or deleted later shows in SecretResolved (and wakes the routes)
          boolean hasSecret =
              credential.getSpec() != null && credential.getSpec().getSecretRef() != null;
          return hasSecret ? control.rescheduleAfter(secretRecheck) : control;
        });
  }

  /** A Warning Event when a model loses its price or an override stops matching anything. */
  private void announcePriced(ProviderCredential before, ProviderCredential after) {
    List<Condition> old = before.getStatus() == null ? null : before.getStatus().getConditions();
    List<Condition> now = after.getStatus().getConditions();
    if (!Statuses.changed(old, now, Conditions.PRICED)
        || Conditions.find(now, Conditions.PRICED).isEmpty()
        || Conditions.isTrue(now, Conditions.PRICED)) {
      return;
    }
    Condition priced = Conditions.find(now, Conditions.PRICED).orElseThrow();
    events.warning(
        before,
        Statuses.transitionKey(old, now, Conditions.PRICED),
        priced.getReason(),
        priced.getMessage());
  }

  /** One Event when the Secret goes missing (or its key does), and one when it is back. */
  private void announce(
      ProviderCredential before, ProviderCredential after, CredentialValidator.Result result) {
    List<Condition> old = before.getStatus() == null ? null : before.getStatus().getConditions();
    List<Condition> now = after.getStatus().getConditions();
    if (!Statuses.changed(old, now, Conditions.SECRET_RESOLVED)) {
      return;
    }
    String transition = Statuses.transitionKey(old, now, Conditions.SECRET_RESOLVED);
    if (!Conditions.isTrue(now, Conditions.SECRET_RESOLVED)) {
      String reason = Conditions.find(now, Conditions.SECRET_RESOLVED).orElseThrow().getReason();
      events.warning(before, transition, reason, result.secretMessage());
    } else if (Conditions.find(old, Conditions.SECRET_RESOLVED).isPresent()) {
      events.normal(before, transition, "SecretResolved", result.secretMessage());
    }
  }
}
