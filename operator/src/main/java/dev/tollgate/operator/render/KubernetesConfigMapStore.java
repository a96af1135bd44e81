package dev.tollgate.operator.render;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;

/** {@link ConfigMapStore} on the fabric8 client. */
public final class KubernetesConfigMapStore implements ConfigMapStore {
  private final KubernetesClient client;

  public KubernetesConfigMapStore(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Optional<ConfigMap> get(String namespace, String name) {
    return Optional.ofNullable(client.configMaps().inNamespace(namespace).withName(name).get());
  }

  @Override
  public ConfigMap create(ConfigMap configMap) {
    return client.configMaps().resource(configMap).create();
  }

  @Override
  public ConfigMap replace(ConfigMap configMap) {
    // update() sends the object's resourceVersion, so the API server rejects a stale write (409).
    return client.configMaps().resource(configMap).update();
  }

  @Override
  public void delete(String namespace, String name, String resourceVersion) {
    client
        .configMaps()
        .inNamespace(namespace)
        .withName(name)
        .lockResourceVersion(resourceVersion)
        .delete();
  }
}
