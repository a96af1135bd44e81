package dev.tollgate.operator.validation;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.LLMRoute;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Which Budget a route draws from: its {@code spec.budgetRef}; else the namespace's Budget that
 * lists the route in {@code spec.routes}; else the namespace-wide Budget (no {@code spec.routes}).
 * Ties go to the first by name so every replica and every render decides the same way.
 */
public final class Budgets {
  private Budgets() {}

  /** The name of the Budget the route draws from, if any (it may not exist: check that). */
  public static Optional<String> budgetNameOf(LLMRoute route, ClusterView view) {
    if (route.getSpec() != null && route.getSpec().getBudgetRef() != null) {
      return Optional.ofNullable(route.getSpec().getBudgetRef().getName());
    }
    String ns = route.getMetadata().getNamespace();
    String name = route.getMetadata().getName();
    List<Budget> budgets =
        view.budgets(ns).stream()
            .filter(b -> b.getMetadata().getDeletionTimestamp() == null && b.getSpec() != null)
            .sorted(Comparator.comparing(b -> b.getMetadata().getName()))
            .toList();
    return budgets.stream()
        .filter(b -> b.getSpec().getRoutes().contains(name))
        .findFirst()
        .or(() -> budgets.stream().filter(b -> b.getSpec().getRoutes().isEmpty()).findFirst())
        .map(b -> b.getMetadata().getName());
  }

  /** The live routes of the budget's namespace that draw from it or that it lists. */
  public static List<LLMRoute> coveredRoutes(Budget budget, ClusterView view) {
    String ns = budget.getMetadata().getNamespace();
    String name = budget.getMetadata().getName();
    List<String> listed = budget.getSpec() == null ? List.of() : budget.getSpec().getRoutes();
    return view.routes(ns).stream()
        .filter(r -> r.getMetadata().getDeletionTimestamp() == null)
        .filter(
            r ->
                listed.contains(r.getMetadata().getName())
                    || budgetNameOf(r, view).filter(name::equals).isPresent())
        .sorted(Comparator.comparing(r -> r.getMetadata().getName()))
        .toList();
  }
}
