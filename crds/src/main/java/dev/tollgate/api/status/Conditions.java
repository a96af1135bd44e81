package dev.tollgate.api.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The one place that builds status conditions, following the Kubernetes API conventions: a
 * CamelCase reason, a message a person can act on, {@code lastTransitionTime} in UTC that moves
 * only when the status flips, and the generation the condition was computed from.
 */
public final class Conditions {
  /** The spec is valid and every reference resolved. */
  public static final String ACCEPTED = "Accepted";

  /** The configuration is rendered (and, once sidecars report, delivered to all of them). */
  public static final String READY = "Ready";

  /** Serving, but not as declared: a target ejected, a fallback in use, a budget downgrade. */
  public static final String DEGRADED = "Degraded";

  /** ProviderCredential: the Secret and key named by spec.secretRef exist. */
  public static final String SECRET_RESOLVED = "SecretResolved";

  /** Budget: an alert threshold was crossed this period. */
  public static final String WARNING = "Warning";

  /** Budget: the limit was reached this period. */
  public static final String EXCEEDED = "Exceeded";

  /**
   * Whether every model a route (or a credential's routes) may call has a price; False lists the
   * unpriced ones. On a ProviderCredential, also False when a price override matches no model in
   * use (a typo'd id would otherwise be ignored silently).
   */
  public static final String PRICED = "Priced";

  /**
   * On a Budget with provider batches: False while the operator cannot meter one of them (the
   * reason of its last failure, e.g. {@code ProviderRefusedKey}), True while they run normally.
   */
  public static final String BATCHES_METERED = "BatchesMetered";

  /**
   * LLMRoute, when its targets declare embedding dimensions: False when a tier mixes models of
   * different dimensions (the sidecar never fails over between them).
   */
  public static final String EMBEDDING_DIMENSIONS = "EmbeddingDimensions";

  private static final Pattern REASON = Pattern.compile("^[A-Z][A-Za-z0-9]*$");
  private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ISO_INSTANT;

  private Conditions() {}

  /**
   * Returns {@code current} with the condition of {@code type} set to the given values. The
   * transition time is kept when the status does not change, so re-applying the same condition is a
   * no-op for the object's content. The result is sorted by type for stable output.
   *
   * @throws IllegalArgumentException if the reason is not a CamelCase word or the message is empty
   */
  public static List<Condition> set(
      List<Condition> current,
      String type,
      boolean status,
      String reason,
      String message,
      Long observedGeneration,
      Instant now) {
    Objects.requireNonNull(type, "type");
    if (reason == null || !REASON.matcher(reason).matches()) {
      throw new IllegalArgumentException("condition reason must be CamelCase: " + reason);
    }
    if (message == null || message.isBlank()) {
      throw new IllegalArgumentException("condition " + type + " needs a message");
    }
    String statusValue = status ? "True" : "False";
    Optional<Condition> previous = find(current, type);
    String transition =
        previous
            .filter(p -> statusValue.equals(p.getStatus()))
            .map(Condition::getLastTransitionTime)
            .orElseGet(() -> format(now));
    Condition updated =
        new ConditionBuilder()
            .withType(type)
            .withStatus(statusValue)
            .withReason(reason)
            .withMessage(message)
            .withObservedGeneration(observedGeneration)
            .withLastTransitionTime(transition)
            .build();
    List<Condition> result = new ArrayList<>();
    if (current != null) {
      current.stream().filter(c -> !type.equals(c.getType())).forEach(result::add);
    }
    result.add(updated);
    result.sort(Comparator.comparing(Condition::getType));
    return result;
  }

  /** The condition of the given type, if present. */
  public static Optional<Condition> find(List<Condition> conditions, String type) {
    if (conditions == null) {
      return Optional.empty();
    }
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /** Whether the condition of the given type is present with status True. */
  public static boolean isTrue(List<Condition> conditions, String type) {
    return find(conditions, type).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  /** Formats an instant as RFC 3339 in UTC with second precision, as Kubernetes does. */
  public static String format(Instant instant) {
    return RFC3339.format(instant.truncatedTo(ChronoUnit.SECONDS));
  }
}
