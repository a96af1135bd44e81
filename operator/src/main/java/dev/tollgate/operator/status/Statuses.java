package dev.tollgate.operator.status;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialStatus;
import dev.tollgate.operator.validation.CredentialValidator;
import dev.tollgate.operator.validation.EmbeddingDimensions;
import dev.tollgate.operator.validation.Problem;
import dev.tollgate.operator.validation.RouteValidator;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Builds the status each reconciler patches: a fresh object holding only name, namespace and status
 * (what JOSDK's status patch expects), with conditions set through {@link Conditions}. Parts of the
 * status that other writers own (usage, health, spend) are carried over unchanged.
 */
public final class Statuses {
  /** Reason of Ready=False when the resource is not accepted. */
  public static final String NOT_ACCEPTED = "NotAccepted";

  private Statuses() {}

  /** An LLMRoute's status after a render: accepted or why not, and whether it was published. */
  public static LLMRoute route(
      LLMRoute current, RouteValidator.Result verdict, String configMapName, Instant now) {
    LLMRouteStatus old = Optional.ofNullable(current.getStatus()).orElseGet(LLMRouteStatus::new);
    LLMRouteStatus status = new LLMRouteStatus();
    status.setTargets(old.getTargets());
    status.setUsage(old.getUsage());
    status.setSidecars(old.getSidecars());
    Long generation = current.getMetadata().getGeneration();
    status.setObservedGeneration(generation);
    status.setTiers(
        current.getSpec() == null
            ? null
            : current.getSpec().getTiers().stream()
                .map(LLMRouteSpec.Tier::getName)
                .collect(Collectors.joining(",")));
    List<Condition> conditions = old.getConditions();
    String ns = current.getMetadata().getNamespace();
    if (verdict.valid()) {
      String accepted =
          verdict.unpricedModels().isEmpty()
              ? "Spec is valid and every reference resolved"
              : "Spec is valid and every reference resolved; no price for "
                  + String.join(", ", verdict.unpricedModels())
                  + ": add them to the credential's spec.pricing.models so spend can be metered";
      conditions =
          Conditions.set(conditions, Conditions.ACCEPTED, true, "Valid", accepted, generation, now);
      conditions =
          verdict.unpricedModels().isEmpty()
              ? Conditions.set(
                  conditions,
                  Conditions.PRICED,
                  true,
                  "Priced",
                  "Every model this route may call has a price",
                  generation,
                  now)
              : Conditions.set(
                  conditions,
                  Conditions.PRICED,
                  false,
                  "Unpriced",
                  "No price for "
                      + String.join(", ", verdict.unpricedModels())
                      + ": their calls are counted but cost 0 in budgets; add them to the"
                      + " credential's spec.pricing.models or the cluster's tollgate-prices"
                      + " ConfigMap",
                  generation,
                  now);
      conditions = embeddingDimensions(conditions, current.getSpec(), generation, now);
      conditions =
          Conditions.set(
              conditions,
              Conditions.READY,
              true,
              "Rendered",
              "In the sidecar configuration, ConfigMap " + ns + "/" + configMapName,
              generation,
              now);
    } else {
      conditions = rejected(conditions, verdict.problems(), generation, now);
      conditions =
          Conditions.set(
              conditions,
              Conditions.READY,
              false,
              NOT_ACCEPTED,
              "Not in the sidecar configuration (any earlier version was removed): fix the"
                  + " problems in the Accepted condition",
              generation,
              now);
    }
    status.setConditions(conditions);
    LLMRoute fresh = new LLMRoute();
    fresh.setMetadata(identity(current));
    fresh.setStatus(status);
    return fresh;
  }

  /**
   * EmbeddingDimensions on a route whose targets declare dimensions: False when a tier mixes models
   * of different dimensions, naming them; left out on routes that declare none.
   */
  private static List<Condition> embeddingDimensions(
      List<Condition> conditions, LLMRouteSpec spec, Long generation, Instant now) {
    Optional<List<String>> mixed = EmbeddingDimensions.mixed(spec);
    if (mixed.isEmpty()) {
      return conditions;
    }
    return mixed.get().isEmpty()
        ? Conditions.set(
            conditions,
            Conditions.EMBEDDING_DIMENSIONS,
            true,
            "SameDimensions",
            "Every tier's embedding targets and fallbacks declare the same dimensions",
            generation,
            now)
        : Conditions.set(
            conditions,
            Conditions.EMBEDDING_DIMENSIONS,
            false,
            "MixedDimensions",
            String.join("; ", mixed.get())
                + ": embedding calls never fail over to a model of other dimensions than the"
                + " tier's first target, so those fallbacks are never used; give each"
                + " dimension its own route",
            generation,
            now);
  }

  /**
   * The route's status when its namespace could not be rendered: Ready turns false with the reason,
   * everything else stays as it was.
   */
  public static LLMRoute routeNotRendered(
      LLMRoute current, String reason, String message, Instant now) {
    LLMRouteStatus old = Optional.ofNullable(current.getStatus()).orElseGet(LLMRouteStatus::new);
    LLMRouteStatus status = new LLMRouteStatus();
    status.setObservedGeneration(old.getObservedGeneration());
    status.setTiers(old.getTiers());
    status.setTargets(old.getTargets());
    status.setUsage(old.getUsage());
    status.setSidecars(old.getSidecars());
    status.setConditions(
        Conditions.set(
            old.getConditions(),
            Conditions.READY,
            false,
            reason,
            message,
            current.getMetadata().getGeneration(),
            now));
    LLMRoute fresh = new LLMRoute();
    fresh.setMetadata(identity(current));
    fresh.setStatus(status);
    return fresh;
  }

  /** A ProviderCredential's status: Accepted, SecretResolved, Ready and unpriced models. */
  public static ProviderCredential credential(
      ProviderCredential current,
      CredentialValidator.Result result,
      List<String> unpricedModels,
      Instant now) {
    return credential(current, result, unpricedModels, List.of(), now);
  }

  /**
   * A ProviderCredential's status, with {@code unmatchedOverrides}: price overrides that price no
   * model the routes send through it ({@code Priced=False}, reason {@code UnmatchedPriceOverride}).
   */
  public static ProviderCredential credential(
      ProviderCredential current,
      CredentialValidator.Result result,
      List<String> unpricedModels,
      List<String> unmatchedOverrides,
      Instant now) {
    ProviderCredentialStatus old =
        Optional.ofNullable(current.getStatus()).orElseGet(ProviderCredentialStatus::new);
    ProviderCredentialStatus status = new ProviderCredentialStatus();
    status.setHealth(old.getHealth());
    status.setOverallHealth(old.getOverallHealth());
    Long generation = current.getMetadata().getGeneration();
    status.setObservedGeneration(generation);
    status.setUnpricedModels(unpricedModels);
    List<Condition> conditions = old.getConditions();
    boolean resolved =
        result.secret() == CredentialValidator.SecretState.RESOLVED
            || result.secret() == CredentialValidator.SecretState.NOT_NEEDED;
    String secretReason =
        switch (result.secret()) {
          case RESOLVED -> "SecretFound";
          case NOT_NEEDED -> "NotRequired";
          case NOT_SET -> "SecretRefMissing";
          case SECRET_MISSING -> "SecretNotFound";
          case KEY_MISSING -> "SecretKeyNotFound";
        };
    conditions =
        Conditions.set(
            conditions,
            Conditions.SECRET_RESOLVED,
            resolved,
            secretReason,
            result.secretMessage(),
            generation,
            now);
    if (result.valid()) {
      String message =
          unpricedModels.isEmpty()
              ? "Spec is valid and the API key Secret resolved"
              : "Spec is valid; no price for "
                  + String.join(", ", unpricedModels)
                  + ": add them to spec.pricing.models so spend can be metered";
      conditions =
          Conditions.set(conditions, Conditions.ACCEPTED, true, "Valid", message, generation, now);
      conditions =
          credentialPriced(conditions, unpricedModels, unmatchedOverrides, generation, now);
      conditions =
          Conditions.set(
              conditions,
              Conditions.READY,
              true,
              "Usable",
              "Routes of this namespace can use this credential",
              generation,
              now);
    } else {
      conditions = rejected(conditions, result.problems(), generation, now);
      conditions = notReady(conditions, generation, now);
    }
    status.setConditions(conditions);
    ProviderCredential fresh = new ProviderCredential();
    fresh.setMetadata(identity(current));
    fresh.setStatus(status);
    return fresh;
  }

  private static List<Condition> credentialPriced(
      List<Condition> conditions,
      List<String> unpriced,
      List<String> unmatched,
      Long generation,
      Instant now) {
    if (!unpriced.isEmpty()) {
      return Conditions.set(
          conditions,
          Conditions.PRICED,
          false,
          "Unpriced",
          "No price for "
              + String.join(", ", unpriced)
              + ": add them to spec.pricing.models so spend can be metered",
          generation,
          now);
    }
    if (!unmatched.isEmpty()) {
      return Conditions.set(
          conditions,
          Conditions.PRICED,
          false,
          "UnmatchedPriceOverride",
          "spec.pricing.models "
              + String.join(", ", unmatched)
              + " price no model that a route sends through this credential (an override applies"
              + " to its model id and that id's dated variants): correct the id or remove it",
          generation,
          now);
    }
    return Conditions.set(
        conditions,
        Conditions.PRICED,
        true,
        "Priced",
        "Every model the routes send through this credential has a price",
        generation,
        now);
  }

  /** A Budget's status: Accepted and Ready; spend fields are carried over. */
  public static Budget budget(Budget current, List<Problem> problems, Instant now) {
    BudgetStatus old = Optional.ofNullable(current.getStatus()).orElseGet(BudgetStatus::new);
    BudgetStatus status = copy(old);
    Long generation = current.getMetadata().getGeneration();
    status.setObservedGeneration(generation);
    List<Condition> conditions = old.getConditions();
    if (problems.isEmpty()) {
      conditions =
          Conditions.set(
              conditions,
              Conditions.ACCEPTED,
              true,
              "Valid",
              "Spec is valid and every reference resolved",
              generation,
              now);
      conditions =
          Conditions.set(
              conditions,
              Conditions.READY,
              true,
              "Rendered",
              "In the sidecar configuration of every accepted route that draws from it",
              generation,
              now);
    } else {
      conditions = rejected(conditions, problems, generation, now);
      conditions = notReady(conditions, generation, now);
    }
    status.setConditions(conditions);
    Budget fresh = new Budget();
    fresh.setMetadata(identity(current));
    fresh.setStatus(status);
    return fresh;
  }

  /** Whether the Accepted condition flips (or appears) between two condition lists. */
  public static boolean acceptedChanged(List<Condition> before, List<Condition> after) {
    return !key(before, Conditions.ACCEPTED).equals(key(after, Conditions.ACCEPTED));
  }

  /** Whether the condition of {@code type} is new or has another status or reason. */
  public static boolean changed(List<Condition> before, List<Condition> after, String type) {
    return !key(before, type).equals(key(after, type));
  }

  /**
   * Identifies the change of condition {@code type} from {@code before} to {@code after}: the new
   * status and reason together with the condition they replace, including its transition time, so
   * that the same change computed twice from the same old status gets the same key while a later,
   * separate change to the same state gets another.
   */
  public static String transitionKey(List<Condition> before, List<Condition> after, String type) {
    String from =
        Conditions.find(before, type)
            .map(c -> c.getStatus() + "/" + c.getReason() + "@" + c.getLastTransitionTime())
            .orElse("none");
    return type + ":" + from + "->" + key(after, type);
  }

  private static String key(List<Condition> conditions, String type) {
    return Conditions.find(conditions, type)
        .map(c -> c.getStatus() + "/" + c.getReason())
        .orElse("");
  }

  private static List<Condition> rejected(
      List<Condition> conditions, List<Problem> problems, Long generation, Instant now) {
    return Conditions.set(
        conditions,
        Conditions.ACCEPTED,
        false,
        problems.get(0).reason(),
        Problem.summarize(problems),
        generation,
        now);
  }

  private static List<Condition> notReady(
      List<Condition> conditions, Long generation, Instant now) {
    return Conditions.set(
        conditions,
        Conditions.READY,
        false,
        NOT_ACCEPTED,
        "Not usable until the problems in the Accepted condition are fixed",
        generation,
        now);
  }

  private static io.fabric8.kubernetes.api.model.ObjectMeta identity(HasMetadata current) {
    return new ObjectMetaBuilder()
        .withName(current.getMetadata().getName())
        .withNamespace(current.getMetadata().getNamespace())
        .build();
  }

  private static BudgetStatus copy(BudgetStatus old) {
    BudgetStatus s = new BudgetStatus();
    s.setPeriodStart(old.getPeriodStart());
    s.setPeriodEnd(old.getPeriodEnd());
    s.setSpent(old.getSpent());
    s.setRemaining(old.getRemaining());
    s.setPercentUsed(old.getPercentUsed());
    s.setPhase(old.getPhase());
    s.setProjected(old.getProjected());
    s.setAlertsFired(old.getAlertsFired());
    s.setByRoute(old.getByRoute());
    s.setByModel(old.getByModel());
    s.setTopCallers(old.getTopCallers());
    s.setTopUsers(old.getTopUsers());
    s.setTopFeatures(old.getTopFeatures());
    s.setByWorkload(old.getByWorkload());
    s.setHistory(old.getHistory());
    return s;
  }
}
