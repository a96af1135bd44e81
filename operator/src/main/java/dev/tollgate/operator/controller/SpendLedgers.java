package dev.tollgate.operator.controller;

import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Where the reconcilers find the spend ledgers the report channel writes: one ConfigMap per tenant
 * namespace, in the operator's namespace ({@link ConfigMapLedgerStore}), watched by one
 * label-selected informer per controller.
 *
 * @param operatorNamespace the namespace holding the ledgers
 * @param prefix ledger objects are named {@code <prefix>-<tenant namespace>}
 */
public record SpendLedgers(String operatorNamespace, String prefix) {
  /** An informer of the ledgers that wakes the primaries {@code ofNamespace} returns. */
  public <P extends HasMetadata> InformerEventSource<ConfigMap, P> informer(
      Class<P> primary,
      EventSourceContext<P> context,
      Function<String, Set<ResourceID>> ofNamespace) {
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(ConfigMap.class, primary)
            .withName("spend-ledgers")
            .withNamespaces(Set.of(operatorNamespace))
            .withFollowControllerNamespacesChanges(false)
            .withLabelSelector(ConfigMapLedgerStore.LABEL_SELECTOR)
            .withSecondaryToPrimaryMapper(
                cm -> {
                  String tenant = ConfigMapLedgerStore.tenantOf(cm);
                  return tenant == null ? Set.of() : ofNamespace.apply(tenant);
                })
            .build(),
        context);
  }

  /**
   * An informer of the open provider batches that wakes the primaries {@code ofNamespace} returns.
   */
  public <P extends HasMetadata> InformerEventSource<ConfigMap, P> batchesInformer(
      Class<P> primary,
      EventSourceContext<P> context,
      Function<String, Set<ResourceID>> ofNamespace) {
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(ConfigMap.class, primary)
            .withName("open-batches")
            .withNamespaces(Set.of(operatorNamespace))
            .withFollowControllerNamespacesChanges(false)
            .withLabelSelector(dev.tollgate.operator.batch.OpenBatches.LABEL_SELECTOR)
            .withSecondaryToPrimaryMapper(
                cm -> {
                  var labels = cm.getMetadata().getLabels();
                  String tenant =
                      labels == null
                          ? null
                          : labels.get(dev.tollgate.operator.batch.OpenBatches.NAMESPACE_LABEL);
                  return tenant == null ? Set.of() : ofNamespace.apply(tenant);
                })
            .build(),
        context);
  }

  /** The open batches of {@code namespace} as the informer last saw them. */
  public dev.tollgate.operator.batch.OpenBatches.Book batchesOf(
      InformerEventSource<ConfigMap, ?> informer, String namespace) {
    return informer
        .get(
            new ResourceID(
                dev.tollgate.operator.batch.OpenBatches.objectName(namespace), operatorNamespace))
        .map(dev.tollgate.operator.batch.OpenBatches::parse)
        .orElseGet(dev.tollgate.operator.batch.OpenBatches.Book::new);
  }

  /** The ledger of {@code namespace} as the informer last saw it. */
  public Optional<SpendLedger> of(InformerEventSource<ConfigMap, ?> informer, String namespace) {
    return informer
        .get(new ResourceID(ConfigMapLedgerStore.objectName(prefix, namespace), operatorNamespace))
        .map(ConfigMapLedgerStore::parse);
  }
}
