package dev.tollgate.sidecar.routing;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tiers forced on routes at runtime, above every rule, the classifier and the caller's {@code
 * x-tollgate-tier}: what a budget's {@code Downgrade} action sets (issue 7) and clears when the
 * period rolls over. A forced tier the route does not declare is ignored.
 */
public final class TierOverrides {
  private final Map<String, String> forced = new ConcurrentHashMap<>();

  public void force(String route, String tier) {
    forced.put(route, tier);
  }

  public void clear(String route) {
    forced.remove(route);
  }

  public Optional<String> forced(String route) {
    return Optional.ofNullable(forced.get(route));
  }
}
