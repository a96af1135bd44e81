package dev.tollgate.operator.controller;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.validation.ClusterView;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.reconciler.ResourceCache;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.List;
import java.util.Optional;

/**
 * A {@link ClusterView} over one controller's informer caches, and Secrets read on demand ({@link
 * ReferencedSecrets}). A controller that does not watch a kind passes null for it; asking for that
 * kind is then a programming error.
 */
final class InformerClusterView implements ClusterView {
  private final ResourceCache<LLMRoute> routes;
  private final ResourceCache<ProviderCredential> credentials;
  private final java.util.function.BiFunction<String, String, Optional<Secret>> secrets;
  private final ResourceCache<Budget> budgets;

  InformerClusterView(
      ResourceCache<LLMRoute> routes,
      ResourceCache<ProviderCredential> credentials,
      java.util.function.BiFunction<String, String, Optional<Secret>> secrets,
      ResourceCache<Budget> budgets) {
    this.routes = routes;
    this.credentials = credentials;
    this.secrets = secrets;
    this.budgets = budgets;
  }

  @Override
  public List<LLMRoute> routes(String namespace) {
    return need(routes, "LLMRoute").list(namespace).toList();
  }

  @Override
  public Optional<ProviderCredential> credential(String namespace, String name) {
    return need(credentials, "ProviderCredential").get(new ResourceID(name, namespace));
  }

  @Override
  public Optional<Secret> secret(String namespace, String name) {
    if (secrets == null) {
      throw new IllegalStateException("this controller does not read Secrets");
    }
    return secrets.apply(namespace, name);
  }

  @Override
  public Optional<Budget> budget(String namespace, String name) {
    return need(budgets, "Budget").get(new ResourceID(name, namespace));
  }

  @Override
  public List<Budget> budgets(String namespace) {
    return need(budgets, "Budget").list(namespace).toList();
  }

  private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> ResourceCache<T> need(
      ResourceCache<T> cache, String kind) {
    if (cache == null) {
      throw new IllegalStateException("this controller does not watch " + kind);
    }
    return cache;
  }
}
