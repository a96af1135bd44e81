package dev.tollgate.operator.webhook;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SecretMounts;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.SidecarConfigException;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * {@link NamespaceView} read from the Kubernetes API. The Secrets to mount are the ones the
 * namespace's rendered configuration names (API keys, Redis passwords), so a pod mounts exactly
 * what its sidecar will read.
 */
public final class KubernetesNamespaceView implements NamespaceView {
  private final KubernetesClient client;
  private final String configMapName;

  public KubernetesNamespaceView(KubernetesClient client, String configMapName) {
    this.client = client;
    this.configMapName = configMapName;
  }

  @Override
  public Map<String, String> labels(String namespace) {
    Namespace ns = client.namespaces().withName(namespace).get();
    if (ns == null || ns.getMetadata().getLabels() == null) {
      return Map.of();
    }
    return ns.getMetadata().getLabels();
  }

  @Override
  public Set<String> referencedSecrets(String namespace) {
    ConfigMap configMap = client.configMaps().inNamespace(namespace).withName(configMapName).get();
    if (configMap == null
        || configMap.getData() == null
        || !configMap.getData().containsKey(SidecarConfigMap.KEY)) {
      // Nothing rendered yet: the pod starts with the (optional) config volume only.
      return Set.of();
    }
    try {
      return secretsOf(SidecarConfigCodec.read(configMap.getData().get(SidecarConfigMap.KEY)));
    } catch (SidecarConfigException e) {
      // The handler admits the pod unchanged, with a warning: better no sidecar than no pod.
      throw new IllegalStateException(
          "the configuration in ConfigMap " + namespace + "/" + configMapName + " is unreadable",
          e);
    }
  }

  @Override
  public boolean usesPodIdentity(String namespace) {
    ConfigMap configMap = client.configMaps().inNamespace(namespace).withName(configMapName).get();
    if (configMap == null
        || configMap.getData() == null
        || !configMap.getData().containsKey(SidecarConfigMap.KEY)) {
      return false;
    }
    try {
      return SidecarConfigCodec.read(configMap.getData().get(SidecarConfigMap.KEY))
          .credentials()
          .stream()
          .map(c -> c.auth().kind())
          .anyMatch(
              k ->
                  k == dev.tollgate.sidecar.config.CredentialAuth.Kind.AWS_IAM
                      || k
                          == dev.tollgate.sidecar.config.CredentialAuth.Kind
                              .AZURE_WORKLOAD_IDENTITY);
    } catch (SidecarConfigException e) {
      return false; // referencedSecrets reports the unreadable configuration
    }
  }

  /** Secrets whose key files the configuration names (Redis: its password and the cache key). */
  static Set<String> secretsOf(SidecarConfig config) {
    Set<String> secrets = new TreeSet<>();
    Stream.concat(
            config.credentials().stream().map(CredentialConfig::apiKeyFile),
            config.routes().stream()
                .map(RouteConfig::cache)
                .map(c -> c == null ? null : c.response())
                .map(r -> r == null ? null : r.redis())
                .filter(r -> r != null)
                .flatMap(r -> Stream.of(r.passwordFile(), r.keyFile())))
        .map(SecretMounts::secretNameOf)
        .flatMap(Optional::stream)
        .forEach(secrets::add);
    return secrets;
  }
}
