package dev.tollgate.operator.validation;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.SecretKeyRef;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Checks an LLMRoute beyond its schema, against the other objects of its namespace: references
 * resolve (credentials and their Secrets, the budget), rules compile, every tier can send traffic,
 * tier names used elsewhere exist, and no other route claims the same model name. Unpriced models
 * are not a problem; they are reported so that status can flag them.
 */
public final class RouteValidator {

  /** Outcome: problems (empty when valid) and the models no price covers. */
  public record Result(List<Problem> problems, List<String> unpricedModels) {
    public boolean valid() {
      return problems.isEmpty();
    }
  }

  private final LLMRoute route;
  private final ClusterView view;
  private final String ns;
  private final List<Problem> problems = new ArrayList<>();
  private final Set<String> unpriced = new TreeSet<>();
  private final Map<String, Optional<CredentialValidator.Result>> credentials = new HashMap<>();

  private RouteValidator(LLMRoute route, ClusterView view) {
    this.route = route;
    this.view = view;
    this.ns = route.getMetadata().getNamespace();
  }

  public static Result validate(LLMRoute route, ClusterView view) {
    RouteValidator v = new RouteValidator(route, view);
    v.run();
    return new Result(List.copyOf(v.problems), List.copyOf(v.unpriced));
  }

  private void run() {
    LLMRouteSpec spec = route.getSpec();
    if (spec == null || spec.getModel() == null) {
      problem("MissingField", "spec.model", "is required; name the model applications ask for");
      return;
    }
    conflicts(spec);
    if (spec.getTiers().isEmpty()) {
      problem("MissingField", "spec.tiers", "needs at least one tier");
    }
    List<String> tierNames = spec.getTiers().stream().map(LLMRouteSpec.Tier::getName).toList();
    for (int t = 0; t < spec.getTiers().size(); t++) {
      tier("spec.tiers[" + t + "]", spec.getTiers().get(t));
    }
    if (spec.getClassifier() != null) {
      LLMRouteSpec.Classifier c = spec.getClassifier();
      if (c.getTarget() != null) {
        target("spec.classifier.target", c.getTarget().getCredential(), c.getTarget().getModel());
      }
      tierExists("spec.classifier.defaultTier", c.getDefaultTier(), tierNames);
    }
    if (spec.getEscalation() != null) {
      tierExists("spec.escalation.fromTier", spec.getEscalation().getFromTier(), tierNames);
      tierExists("spec.escalation.toTier", spec.getEscalation().getToTier(), tierNames);
    }
    redisPassword(spec);
    budget();
  }

  /** Two routes of a namespace cannot serve one model name; the older one keeps it. */
  private void conflicts(LLMRouteSpec spec) {
    List<LLMRoute> others =
        view.routes(ns).stream()
            .filter(r -> r.getMetadata().getDeletionTimestamp() == null)
            .filter(r -> !r.getMetadata().getName().equals(route.getMetadata().getName()))
            .filter(r -> r.getSpec() != null)
            .filter(r -> precedes(r, route))
            .sorted(Comparator.comparing(r -> r.getMetadata().getName()))
            .toList();
    others.stream()
        .filter(r -> spec.getModel().equals(r.getSpec().getModel()))
        .findFirst()
        .ifPresent(
            r ->
                problem(
                    "ModelConflict",
                    "spec.model",
                    "model '"
                        + spec.getModel()
                        + "' is already served by LLMRoute '"
                        + r.getMetadata().getName()
                        + "'; use another model name or delete one of the two routes"));
    if (Boolean.TRUE.equals(spec.getDefaultRoute())) {
      others.stream()
          .filter(r -> Boolean.TRUE.equals(r.getSpec().getDefaultRoute()))
          .findFirst()
          .ifPresent(
              r ->
                  problem(
                      "DefaultConflict",
                      "spec.default",
                      "LLMRoute '"
                          + r.getMetadata().getName()
                          + "' is already the namespace's default route; set default: true on"
                          + " one route only"));
    }
  }

  /** Creation order, then name: the same answer on every replica and every render. */
  private static boolean precedes(LLMRoute a, LLMRoute b) {
    String ca = a.getMetadata().getCreationTimestamp();
    String cb = b.getMetadata().getCreationTimestamp();
    int byTime = ca == null || cb == null ? 0 : ca.compareTo(cb);
    return byTime != 0
        ? byTime < 0
        : a.getMetadata().getName().compareTo(b.getMetadata().getName()) < 0;
  }

  private void tier(String path, LLMRouteSpec.Tier tier) {
    int weights = 0;
    for (int i = 0; i < tier.getTargets().size(); i++) {
      LLMRouteSpec.Target t = tier.getTargets().get(i);
      target(path + ".targets[" + i + "]", t.getCredential(), t.getModel());
      weights += t.getWeight() == null ? 100 : Math.max(0, t.getWeight());
    }
    if (tier.getTargets().isEmpty()) {
      problem("MissingField", path + ".targets", "needs at least one target");
    } else if (weights == 0) {
      problem(
          "InvalidWeights",
          path + ".targets",
          "all weights are 0, so the tier can serve nothing; give at least one target a weight"
              + " above 0");
    }
    for (int i = 0; i < tier.getFallbacks().size(); i++) {
      LLMRouteSpec.TargetRef f = tier.getFallbacks().get(i);
      target(path + ".fallbacks[" + i + "]", f.getCredential(), f.getModel());
    }
    LLMRouteSpec.Match when = tier.getWhen();
    if (when != null) {
      for (int i = 0; i < when.getPatterns().size(); i++) {
        try {
          Pattern.compile(when.getPatterns().get(i));
        } catch (PatternSyntaxException e) {
          problem(
              "InvalidPattern",
              path + ".when.patterns[" + i + "]",
              "is not a valid regular expression ("
                  + e.getDescription()
                  + " near index "
                  + e.getIndex()
                  + "); fix or remove it");
        }
      }
      if (when.getMinInputTokens() != null
          && when.getMaxInputTokens() != null
          && when.getMinInputTokens() > when.getMaxInputTokens()) {
        problem(
            "InvalidMatch",
            path + ".when",
            "minInputTokens is larger than maxInputTokens, so no request can match; swap or fix"
                + " them");
      }
    }
  }

  private void target(String path, String credentialName, String model) {
    Optional<CredentialValidator.Result> check =
        credentials.computeIfAbsent(
            credentialName,
            name ->
                view.credential(ns, name)
                    .filter(c -> c.getMetadata().getDeletionTimestamp() == null)
                    .map(c -> CredentialValidator.validate(c, view)));
    if (check.isEmpty()) {
      problem(
          "CredentialNotFound",
          path + ".credential",
          "ProviderCredential '"
              + credentialName
              + "' does not exist in namespace '"
              + ns
              + "'; create it or fix the name");
      return;
    }
    CredentialValidator.Result result = check.get();
    if (!result.valid()) {
      Problem first = result.problems().get(0);
      String reason =
          switch (result.secret()) {
            case SECRET_MISSING -> "SecretNotFound";
            case KEY_MISSING -> "SecretKeyNotFound";
            default -> "CredentialInvalid";
          };
      problem(
          reason,
          path + ".credential",
          "ProviderCredential '"
              + credentialName
              + "' is not usable: "
              + first.describe()
              + "; fix the ProviderCredential");
      return;
    }
    ProviderCredential credential = view.credential(ns, credentialName).orElseThrow();
    if (!Pricing.isPriced(credential, model)) {
      unpriced.add(model + " (via " + credentialName + ")");
    }
  }

  private void tierExists(String path, String tier, List<String> tierNames) {
    if (tier != null && !tierNames.contains(tier)) {
      problem(
          "TierNotFound",
          path,
          "tier '"
              + tier
              + "' is not declared (tiers: "
              + String.join(", ", tierNames)
              + "); name one of spec.tiers");
    }
  }

  private void redisPassword(LLMRouteSpec spec) {
    if (spec.getCache() == null
        || spec.getCache().getResponse() == null
        || spec.getCache().getResponse().getRedis() == null
        || spec.getCache().getResponse().getRedis().getPasswordSecretRef() == null) {
      return;
    }
    SecretKeyRef ref = spec.getCache().getResponse().getRedis().getPasswordSecretRef();
    String path = "spec.cache.response.redis.passwordSecretRef";
    view.secret(ns, ref.getName())
        .ifPresentOrElse(
            s -> {
              if (!CredentialValidator.keys(s).contains(ref.getKey())) {
                problem(
                    "SecretKeyNotFound",
                    path + ".key",
                    "Secret '" + ref.getName() + "' has no key '" + ref.getKey() + "'; add it");
              }
            },
            () ->
                problem(
                    "SecretNotFound",
                    path + ".name",
                    "Secret '"
                        + ref.getName()
                        + "' does not exist in namespace '"
                        + ns
                        + "'; create it or fix the name"));
  }

  private void budget() {
    Optional<String> name = Budgets.budgetNameOf(route, view);
    if (name.isEmpty()) {
      return;
    }
    Optional<Budget> budget =
        view.budget(ns, name.get()).filter(b -> b.getMetadata().getDeletionTimestamp() == null);
    boolean explicit = route.getSpec().getBudgetRef() != null;
    String path = explicit ? "spec.budgetRef.name" : "spec.budgetRef";
    if (budget.isEmpty()) {
      problem(
          "BudgetNotFound",
          path,
          "Budget '"
              + name.get()
              + "' does not exist in namespace '"
              + ns
              + "'; create it or fix the name");
      return;
    }
    List<Problem> budgetProblems = BudgetValidator.validate(budget.get(), view);
    if (!budgetProblems.isEmpty()) {
      problem(
          "BudgetInvalid",
          path,
          "the route draws from Budget '"
              + name.get()
              + "', which is not valid: "
              + budgetProblems.get(0).describe()
              + "; fix the Budget");
      return;
    }
    BudgetSpec.Downgrade downgrade = budget.get().getSpec().getDowngrade();
    if (downgrade != null && downgrade.getTarget() != null) {
      String credential = downgrade.getTarget().getCredential();
      boolean usable =
          view.credential(ns, credential)
              .map(c -> CredentialValidator.validate(c, view).valid())
              .orElse(false);
      if (!usable) {
        problem(
            "BudgetInvalid",
            path,
            "the route draws from Budget '"
                + name.get()
                + "', which downgrades to ProviderCredential '"
                + credential
                + "', which is missing or not usable; fix the credential or the Budget");
      }
    }
  }

  private void problem(String reason, String field, String message) {
    problems.add(new Problem(reason, field, message));
  }
}
