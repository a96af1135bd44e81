package dev.tollgate.operator.render;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.validation.Budgets;
import dev.tollgate.operator.validation.ClusterView;
import dev.tollgate.operator.validation.Pricing;
import dev.tollgate.operator.validation.Problem;
import dev.tollgate.operator.validation.RouteValidator;
import dev.tollgate.sidecar.config.BudgetConfig;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.SidecarConfigValidator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Computes a namespace's sidecar configuration from the objects in a {@link ClusterView}: every
 * valid route, the credentials and budgets those routes use, and a verdict per route. A pure
 * function of its input, so whichever reconcile renders a namespace gets the same answer for the
 * same state. A route is either wholly in the configuration or not at all.
 */
public final class NamespaceRenderer {
  private final SidecarRecords records;

  public NamespaceRenderer(SidecarRecords records) {
    this.records = records;
  }

  /**
   * The outcome for one namespace.
   *
   * @param config the configuration to publish; empty when the namespace has no live route (the
   *     ConfigMap should then not exist)
   * @param verdicts per live route name: its problems (empty: rendered) and unpriced models
   * @param owners the live routes, which own the ConfigMap
   */
  public record Rendering(
      String namespace,
      Optional<SidecarConfig> config,
      Map<String, RouteValidator.Result> verdicts,
      List<LLMRoute> owners) {}

  public Rendering render(String namespace, ClusterView view) {
    List<LLMRoute> live =
        view.routes(namespace).stream()
            .filter(r -> r.getMetadata().getDeletionTimestamp() == null)
            .sorted(Comparator.comparing(r -> r.getMetadata().getName()))
            .toList();
    if (live.isEmpty()) {
      return new Rendering(namespace, Optional.empty(), Map.of(), List.of());
    }
    Map<String, RouteValidator.Result> verdicts = new LinkedHashMap<>();
    List<RouteConfig> routes = new ArrayList<>();
    Map<String, CredentialConfig> credentials = new TreeMap<>();
    Map<String, Budget> budgets = new TreeMap<>();
    Map<String, List<String>> budgetModels = new TreeMap<>();
    for (LLMRoute route : live) {
      RouteValidator.Result result = RouteValidator.validate(route, view);
      if (result.valid()) {
        Optional<Part> part = part(route, view);
        if (part.isPresent()) {
          List<Problem> contract = contractProblems(namespace, part.get());
          if (contract.isEmpty()) {
            routes.add(part.get().route());
            part.get().credentials().forEach(c -> credentials.put(c.name(), c));
            part.get()
                .budget()
                .ifPresent(
                    b -> {
                      budgets.put(b.getMetadata().getName(), b);
                      budgetModels
                          .computeIfAbsent(b.getMetadata().getName(), k -> new ArrayList<>())
                          .add(route.getSpec().getModel());
                    });
          } else {
            result = new RouteValidator.Result(contract, result.unpricedModels());
          }
        } else {
          result =
              new RouteValidator.Result(
                  List.of(
                      new Problem(
                          "InvalidConfiguration",
                          "spec",
                          "cannot be translated into sidecar configuration; check durations and"
                              + " sizes")),
                  result.unpricedModels());
        }
      }
      verdicts.put(route.getMetadata().getName(), result);
    }
    List<BudgetConfig> budgetConfigs = new ArrayList<>();
    budgets.forEach(
        (name, b) ->
            budgetConfigs.add(records.budget(b, coveredModels(b, budgetModels.get(name)))));
    SidecarConfig config =
        SidecarConfigCodec.withContentHash(
            new SidecarConfig(
                null,
                namespace,
                null,
                routes,
                List.copyOf(credentials.values()),
                budgetConfigs,
                Pricing.clusterPrices()));
    List<String> problems = SidecarConfigValidator.validate(config);
    if (!problems.isEmpty()) {
      // Every route was checked on its own; what is left is a bug here, not a user error.
      throw new IllegalStateException(
          "rendered configuration of namespace " + namespace + " is invalid: " + problems);
    }
    return new Rendering(namespace, Optional.of(config), Map.copyOf(verdicts), live);
  }

  /** One route with everything it needs from the namespace. */
  private record Part(
      RouteConfig route, List<CredentialConfig> credentials, Optional<Budget> budget) {}

  private Optional<Part> part(LLMRoute route, ClusterView view) {
    String ns = route.getMetadata().getNamespace();
    try {
      Optional<Budget> budget =
          Budgets.budgetNameOf(route, view).flatMap(name -> view.budget(ns, name));
      TreeSet<String> credentialNames = new TreeSet<>();
      Pricing.targets(route.getSpec()).forEach(t -> credentialNames.add(t.getCredential()));
      budget
          .map(b -> b.getSpec().getDowngrade())
          .filter(d -> d.getTarget() != null)
          .ifPresent(d -> credentialNames.add(d.getTarget().getCredential()));
      List<CredentialConfig> credentials = new ArrayList<>();
      for (String name : credentialNames) {
        ProviderCredential credential = view.credential(ns, name).orElseThrow();
        credentials.add(records.credential(credential));
      }
      RouteConfig config =
          records.route(route, budget.map(b -> b.getMetadata().getName()).orElse(null));
      return Optional.of(new Part(config, credentials, budget));
    } catch (RuntimeException e) {
      // Values the schema should have refused (a malformed duration, say): reject the route.
      return Optional.empty();
    }
  }

  /** The sidecar contract's own checks on the route alone, with paths in the route's terms. */
  private List<Problem> contractProblems(String namespace, Part part) {
    List<BudgetConfig> budgets =
        part.budget()
            .map(b -> List.of(records.budget(b, coveredModels(b, List.of(part.route().model())))))
            .orElse(List.of());
    SidecarConfig alone =
        new SidecarConfig(
            null, namespace, null, List.of(part.route()), part.credentials(), budgets);
    String routePrefix = "routes[" + part.route().model() + "]";
    return SidecarConfigValidator.validate(alone).stream()
        .map(
            p -> {
              String field = p.substring(0, p.indexOf(": "));
              String message = p.substring(p.indexOf(": ") + 2);
              if (field.startsWith(routePrefix)) {
                field = "spec" + field.substring(routePrefix.length());
              }
              return new Problem("InvalidConfiguration", field, message);
            })
        .toList();
  }

  /** A budget that lists routes covers the rendered ones; one that lists none covers all. */
  private static List<String> coveredModels(Budget budget, List<String> models) {
    if (budget.getSpec().getRoutes().isEmpty()) {
      return List.of();
    }
    return models.stream().distinct().sorted().toList();
  }
}
