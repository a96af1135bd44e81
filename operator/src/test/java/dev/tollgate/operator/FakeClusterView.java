package dev.tollgate.operator;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.validation.ClusterView;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A {@link ClusterView} over plain lists, for unit tests. */
public final class FakeClusterView implements ClusterView {
  private final List<HasMetadata> objects = new ArrayList<>();

  public FakeClusterView add(HasMetadata... resources) {
    objects.addAll(List.of(resources));
    return this;
  }

  public FakeClusterView remove(HasMetadata resource) {
    objects.remove(resource);
    return this;
  }

  private <T extends HasMetadata> List<T> of(Class<T> type, String ns) {
    return objects.stream()
        .filter(type::isInstance)
        .map(type::cast)
        .filter(o -> ns.equals(o.getMetadata().getNamespace()))
        .toList();
  }

  private <T extends HasMetadata> Optional<T> one(Class<T> type, String ns, String name) {
    return of(type, ns).stream().filter(o -> name.equals(o.getMetadata().getName())).findFirst();
  }

  @Override
  public List<LLMRoute> routes(String namespace) {
    return of(LLMRoute.class, namespace);
  }

  @Override
  public Optional<ProviderCredential> credential(String namespace, String name) {
    return one(ProviderCredential.class, namespace, name);
  }

  @Override
  public Optional<Secret> secret(String namespace, String name) {
    return one(Secret.class, namespace, name);
  }

  @Override
  public Optional<Budget> budget(String namespace, String name) {
    return one(Budget.class, namespace, name);
  }

  @Override
  public List<Budget> budgets(String namespace) {
    return of(Budget.class, namespace);
  }
}
