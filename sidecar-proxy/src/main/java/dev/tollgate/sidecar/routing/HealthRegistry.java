package dev.tollgate.sidecar.routing;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The passive health of every route target this sidecar has called, kept across requests and
 * configuration reloads (a target whose breaker settings change starts afresh). {@link #snapshot()}
 * is what the reporting channel sends to the operator.
 */
public final class HealthRegistry {
  private final Map<String, TargetHealth> targets = new ConcurrentHashMap<>();

  /** The health of one target of a route's tier (fallbacks included). */
  public TargetHealth of(
      RouteConfig route, String tier, CredentialConfig credential, String model) {
    String key = route.model() + "\n" + tier + "\n" + credential.name() + "\n" + model;
    return targets.compute(
        key,
        (k, h) ->
            h != null && h.settings().equals(route.circuitBreaker())
                ? h
                : new TargetHealth(
                    route.model(),
                    tier,
                    credential.name(),
                    credential.provider().wireName(),
                    model,
                    route.circuitBreaker()));
  }

  public List<TargetHealthSnapshot> snapshot() {
    return targets.values().stream()
        .map(TargetHealth::snapshot)
        .sorted(
            Comparator.comparing(TargetHealthSnapshot::route)
                .thenComparing(TargetHealthSnapshot::tier)
                .thenComparing(TargetHealthSnapshot::credential)
                .thenComparing(TargetHealthSnapshot::model))
        .toList();
  }
}
