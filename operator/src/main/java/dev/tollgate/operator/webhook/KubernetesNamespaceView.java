package dev.tollgate.operator.webhook;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.SecretKeyRef;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** {@link NamespaceView} read from the Kubernetes API. */
public final class KubernetesNamespaceView implements NamespaceView {
  private final KubernetesClient client;

  public KubernetesNamespaceView(KubernetesClient client) {
    this.client = client;
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
    Set<String> secrets = new TreeSet<>();
    for (ProviderCredential credential :
        client.resources(ProviderCredential.class).inNamespace(namespace).list().getItems()) {
      Optional.ofNullable(credential.getSpec())
          .map(s -> s.getSecretRef())
          .map(SecretKeyRef::getName)
          .ifPresent(secrets::add);
    }
    for (LLMRoute route :
        client.resources(LLMRoute.class).inNamespace(namespace).list().getItems()) {
      Optional.ofNullable(route.getSpec())
          .map(LLMRouteSpec::getCache)
          .map(LLMRouteSpec.Cache::getResponse)
          .map(LLMRouteSpec.ResponseCache::getRedis)
          .map(LLMRouteSpec.RedisSettings::getPasswordSecretRef)
          .map(SecretKeyRef::getName)
          .ifPresent(secrets::add);
    }
    return secrets;
  }
}
