package dev.tollgate.operator.validation;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a Budget beyond its schema: the limit, that the routes it lists exist, and that its
 * downgrade names a tier every covered route has (or a credential that exists).
 */
public final class BudgetValidator {
  private BudgetValidator() {}

  public static List<Problem> validate(Budget budget, ClusterView view) {
    String ns = budget.getMetadata().getNamespace();
    BudgetSpec spec = budget.getSpec();
    List<Problem> problems = new ArrayList<>();
    if (spec == null) {
      problems.add(new Problem("MissingField", "spec", "is required"));
      return problems;
    }
    positiveMoney("spec.limit", spec.getLimit(), problems);
    if (spec.getPerCaller() != null) {
      positiveMoney("spec.perCaller.limit", spec.getPerCaller().getLimit(), problems);
    }
    List<String> routeNames =
        view.routes(ns).stream()
            .filter(r -> r.getMetadata().getDeletionTimestamp() == null)
            .map(r -> r.getMetadata().getName())
            .toList();
    for (int i = 0; i < spec.getRoutes().size(); i++) {
      String route = spec.getRoutes().get(i);
      if (!routeNames.contains(route)) {
        problems.add(
            new Problem(
                "RouteNotFound",
                "spec.routes[" + i + "]",
                "LLMRoute '"
                    + route
                    + "' does not exist in namespace '"
                    + ns
                    + "'; create it or remove it from the list"));
      }
    }
    if (spec.getOnExceeded() == BudgetSpec.ExceededAction.DOWNGRADE) {
      BudgetSpec.Downgrade downgrade = spec.getDowngrade();
      if (downgrade == null || (downgrade.getTier() == null) == (downgrade.getTarget() == null)) {
        problems.add(
            new Problem(
                "MissingField",
                "spec.downgrade",
                "name exactly one of downgrade.tier and downgrade.target when onExceeded is"
                    + " Downgrade"));
      } else if (downgrade.getTier() != null) {
        for (LLMRoute route : Budgets.coveredRoutes(budget, view)) {
          List<String> tiers =
              route.getSpec() == null
                  ? List.of()
                  : route.getSpec().getTiers().stream().map(LLMRouteSpec.Tier::getName).toList();
          if (!tiers.contains(downgrade.getTier())) {
            problems.add(
                new Problem(
                    "TierNotFound",
                    "spec.downgrade.tier",
                    "LLMRoute '"
                        + route.getMetadata().getName()
                        + "' has no tier '"
                        + downgrade.getTier()
                        + "' (its tiers: "
                        + String.join(", ", tiers)
                        + "); name a tier every covered route has, or downgrade to a target"));
          }
        }
      } else if (view.credential(ns, downgrade.getTarget().getCredential()).isEmpty()) {
        problems.add(
            new Problem(
                "CredentialNotFound",
                "spec.downgrade.target.credential",
                "ProviderCredential '"
                    + downgrade.getTarget().getCredential()
                    + "' does not exist in namespace '"
                    + ns
                    + "'; create it or fix the name"));
      }
    }
    return problems;
  }

  private static void positiveMoney(String path, String value, List<Problem> problems) {
    try {
      if (value == null || new BigDecimal(value).signum() <= 0) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      problems.add(
          new Problem(
              "InvalidLimit",
              path,
              "'" + value + "' is not a positive amount of US dollars; use e.g. \"2500.00\""));
    }
  }
}
