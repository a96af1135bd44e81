package dev.tollgate.operator.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Builds the informer event sources the controllers share in shape, and their helpers. */
final class EventSources {
  private EventSources() {}

  /**
   * An informer of {@code type} in the controller's namespaces, mapped to primaries by {@code
   * mapper}.
   */
  static <R extends HasMetadata, P extends HasMetadata> InformerEventSource<R, P> informer(
      String name,
      Class<R> type,
      EventSourceContext<P> context,
      SecondaryToPrimaryMapper<R> mapper) {
    return informer(name, type, context, mapper, EventSources::specOrDeletionChanged);
  }

  /** As above, waking primaries on the updates {@code onUpdate} accepts. */
  static <R extends HasMetadata, P extends HasMetadata> InformerEventSource<R, P> informer(
      String name,
      Class<R> type,
      EventSourceContext<P> context,
      SecondaryToPrimaryMapper<R> mapper,
      io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter<R> onUpdate) {
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(type, context.getPrimaryResourceClass())
            .withName(name)
            .withNamespacesInheritedFromController()
            .withSecondaryToPrimaryMapper(mapper)
            .withOnUpdateFilter(onUpdate)
            .build(),
        context);
  }

  /**
   * A credential's spec, deletion, or whether its Secret resolves: the credential controller
   * re-reads Secrets (there is no Secret watch), and the routes learn of a Secret change through
   * the credential's {@code SecretResolved} condition.
   */
  static boolean credentialChanged(
      dev.tollgate.api.v1alpha1.ProviderCredential now,
      dev.tollgate.api.v1alpha1.ProviderCredential before) {
    return specOrDeletionChanged(now, before) || !secretState(now).equals(secretState(before));
  }

  private static String secretState(dev.tollgate.api.v1alpha1.ProviderCredential c) {
    return c.getStatus() == null
        ? ""
        : dev.tollgate.api.status.Conditions.find(
                c.getStatus().getConditions(), dev.tollgate.api.status.Conditions.SECRET_RESOLVED)
            .map(x -> x.getStatus() + "/" + x.getReason())
            .orElse("");
  }

  /**
   * Dependents care about another object's spec (and whether it is going away), never about its
   * status or metadata: a status write by another controller, or spend written back every few
   * seconds, must not re-render every route.
   */
  static <R extends HasMetadata> boolean specOrDeletionChanged(R now, R before) {
    return !Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
        || !Objects.equals(
            now.getMetadata().getDeletionTimestamp(), before.getMetadata().getDeletionTimestamp());
  }

  /**
   * A Secret with only names and key names: values, annotations (kubectl's last-applied annotation
   * holds the values too) and managed fields are dropped as soon as it is read, so no secret value
   * can leak from the operator's memory into status, logs or configuration.
   */
  static Secret keysOnly(Secret secret) {
    Map<String, String> keys = new TreeMap<>();
    if (secret.getData() != null) {
      secret.getData().keySet().forEach(k -> keys.put(k, ""));
    }
    if (secret.getStringData() != null) {
      secret.getStringData().keySet().forEach(k -> keys.put(k, ""));
    }
    return new SecretBuilder()
        .withMetadata(
            new ObjectMetaBuilder()
                .withName(secret.getMetadata().getName())
                .withNamespace(secret.getMetadata().getNamespace())
                .withUid(secret.getMetadata().getUid())
                .withResourceVersion(secret.getMetadata().getResourceVersion())
                .build())
        .withType(secret.getType())
        .withData(keys)
        .build();
  }

  static Set<ResourceID> ids(Collection<? extends HasMetadata> resources) {
    return resources.stream().map(ResourceID::fromResource).collect(Collectors.toSet());
  }

  /** Index key of an object in a namespace. */
  static String key(String namespace, String name) {
    return namespace + "/" + name;
  }
}
