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
import java.util.List;
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

  /** How long the webhook waits for a ReplicaSet or Job before falling back to its name. */
  static final java.time.Duration OWNER_TIMEOUT = java.time.Duration.ofSeconds(1);

  /**
   * Owner lookups run here, so that a slow API server costs an admission at most {@link
   * #OWNER_TIMEOUT}: two threads, a short queue; beyond it a lookup is refused at once (naming
   * convention).
   */
  private static final java.util.concurrent.ExecutorService OWNER_LOOKUPS =
      new java.util.concurrent.ThreadPoolExecutor(
          0,
          2,
          30,
          java.util.concurrent.TimeUnit.SECONDS,
          new java.util.concurrent.ArrayBlockingQueue<>(32),
          r -> {
            Thread t = new Thread(r, "tollgate-webhook-owner-lookup");
            t.setDaemon(true);
            return t;
          });

  @Override
  public Optional<io.fabric8.kubernetes.api.model.OwnerReference> controllerOf(
      String namespace, String kind, String name) {
    java.util.concurrent.Future<io.fabric8.kubernetes.api.model.HasMetadata> f =
        OWNER_LOOKUPS.submit(
            () ->
                switch (kind) {
                  case "ReplicaSet" ->
                      client.apps().replicaSets().inNamespace(namespace).withName(name).get();
                  case "Job" ->
                      client.batch().v1().jobs().inNamespace(namespace).withName(name).get();
                  default -> throw new IllegalArgumentException("not an owner kind: " + kind);
                });
    io.fabric8.kubernetes.api.model.HasMetadata owner;
    try {
      owner = f.get(OWNER_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      f.cancel(true);
      throw new IllegalStateException(
          "reading " + kind + " " + namespace + "/" + name + " timed out");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(
          "reading " + kind + " " + namespace + "/" + name + " failed: " + e.getCause(), e);
    }
    if (owner == null) {
      throw new IllegalStateException(kind + " " + namespace + "/" + name + " not found");
    }
    List<io.fabric8.kubernetes.api.model.OwnerReference> refs =
        owner.getMetadata().getOwnerReferences();
    return refs == null
        ? Optional.empty()
        : refs.stream().filter(r -> Boolean.TRUE.equals(r.getController())).findFirst();
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
