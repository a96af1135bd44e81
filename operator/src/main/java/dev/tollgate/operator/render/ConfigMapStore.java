package dev.tollgate.operator.render;

import io.fabric8.kubernetes.api.model.ConfigMap;
import java.util.Optional;

/** The Kubernetes API as the renderer uses it: read, create, replace and delete one ConfigMap. */
public interface ConfigMapStore {
  Optional<ConfigMap> get(String namespace, String name);

  /** Creates; fails if it already exists (another writer won: the caller retries). */
  ConfigMap create(ConfigMap configMap);

  /**
   * Replaces the ConfigMap whose {@code metadata.resourceVersion} is given; fails with a conflict
   * if it changed since (optimistic locking: a write based on a stale read never lands).
   */
  ConfigMap replace(ConfigMap configMap);

  /** Deletes the ConfigMap if it is still at {@code resourceVersion}. */
  void delete(String namespace, String name, String resourceVersion);
}
