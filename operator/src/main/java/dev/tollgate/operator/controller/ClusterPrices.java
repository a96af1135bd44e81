package dev.tollgate.operator.controller;

import dev.tollgate.operator.status.EventRecorder;
import dev.tollgate.operator.validation.Pricing;
import dev.tollgate.sidecar.config.PriceFile;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.config.informer.FieldSelector;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's own prices: the ConfigMap {@code tollgate-prices} (key {@code prices.yaml}, the
 * format of the built-in catalogue file) that the platform team keeps in the operator's namespace,
 * out of tenants' reach. Its entries replace or add to the built-in catalogue without a release:
 * status is judged against the merged catalogue ({@link Pricing#use}) and the file is rendered into
 * every namespace's sidecar configuration, so the sidecars price calls with it too. A file that
 * does not parse is refused with a Warning Event on the ConfigMap; the last good prices stay in
 * force. Deleting the ConfigMap returns to the built-in prices.
 *
 * @param operatorNamespace where the ConfigMap lives
 * @param name its name
 */
public record ClusterPrices(String operatorNamespace, String name, EventRecorder events) {
  public static final String DEFAULT_NAME = "tollgate-prices";
  public static final String KEY = "prices.yaml";
  private static final Logger LOG = LoggerFactory.getLogger(ClusterPrices.class);

  /** An informer of this one ConfigMap that wakes every primary {@code all} returns. */
  public <P extends HasMetadata> InformerEventSource<ConfigMap, P> informer(
      Class<P> primary, EventSourceContext<P> context, Supplier<Set<ResourceID>> all) {
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(ConfigMap.class, primary)
            .withName("cluster-prices")
            .withNamespaces(Set.of(operatorNamespace))
            .withFollowControllerNamespacesChanges(false)
            .withFieldSelector(new FieldSelector(new FieldSelector.Field("metadata.name", name)))
            .withSecondaryToPrimaryMapper(
                cm -> name.equals(cm.getMetadata().getName()) ? all.get() : Set.of())
            .build(),
        context);
  }

  /**
   * Reads the ConfigMap as the informer last saw it and puts its prices in force when they changed.
   * Called at the start of each reconcile, so the catalogue is current before status is judged or a
   * namespace rendered.
   */
  public void observe(InformerEventSource<ConfigMap, ?> informer) {
    Optional<ConfigMap> cm = informer.get(new ResourceID(name, operatorNamespace));
    String version = cm.map(c -> c.getMetadata().getResourceVersion()).orElse(null);
    synchronized (ClusterPrices.class) {
      if (Objects.equals(version, Pricing.clusterPricesVersion())) {
        return;
      }
      if (cm.isEmpty()) {
        Pricing.use(null, null);
        LOG.info("no ConfigMap {}/{}: the built-in prices apply", operatorNamespace, name);
        return;
      }
      String text = cm.get().getData() == null ? null : cm.get().getData().get(KEY);
      String origin = "ConfigMap " + operatorNamespace + "/" + name + " key " + KEY;
      try {
        if (text == null || text.isBlank()) {
          throw new IllegalArgumentException(origin + ": missing or empty");
        }
        PriceFile file = PriceFile.parse(text, origin);
        Pricing.use(file, version);
        LOG.info(
            "cluster prices of {} in force: {} models dated {}",
            origin,
            file.entries().size(),
            file.date());
        events.normal(
            cm.get(),
            "prices:" + version,
            "PricesApplied",
            file.entries().size() + " model prices of " + origin + " are in force");
      } catch (IllegalArgumentException e) {
        // keep the last good prices; remember this version so the warning is given once
        Pricing.refuse(version);
        LOG.warn("{}; the previous prices stay in force", e.getMessage());
        events.warning(
            cm.get(),
            "prices:" + version,
            "InvalidPrices",
            e.getMessage() + "; the previous prices stay in force until it is fixed");
      }
    }
  }
}
