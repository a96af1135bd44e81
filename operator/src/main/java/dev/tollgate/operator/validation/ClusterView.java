package dev.tollgate.operator.validation;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.List;
import java.util.Optional;

/**
 * Read-only view of the objects validation and rendering depend on. In the operator it is backed by
 * the informer caches of the controller asking, so a decision is made from the same state that
 * triggered it; tests back it with plain lists. Secrets in this view carry key names only, never
 * values.
 */
public interface ClusterView {
  /** The namespace's LLMRoutes, including ones being deleted. */
  List<LLMRoute> routes(String namespace);

  Optional<ProviderCredential> credential(String namespace, String name);

  /** The Secret with its values removed (keys kept), if it exists. */
  Optional<Secret> secret(String namespace, String name);

  Optional<Budget> budget(String namespace, String name);

  List<Budget> budgets(String namespace);
}
