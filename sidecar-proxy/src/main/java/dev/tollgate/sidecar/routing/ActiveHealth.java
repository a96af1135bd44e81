package dev.tollgate.sidecar.routing;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Results of the active health probes, per credential: a credential whose probe failed {@code
 * failureThreshold} times in a row is down, and routing skips its targets while an alternative
 * exists, until a probe succeeds again. Credentials without probes are always up.
 */
public final class ActiveHealth {
  /** One credential's probe results, for metrics and reports. */
  public record CredentialHealth(
      String credential,
      boolean up,
      int consecutiveFailures,
      String lastError,
      Instant lastProbe) {}

  private final Map<String, CredentialHealth> credentials = new ConcurrentHashMap<>();

  public boolean isDown(String credential) {
    CredentialHealth h = credentials.get(credential);
    return h != null && !h.up();
  }

  /** Records one probe; returns whether the credential is up afterwards. */
  public boolean probed(String credential, boolean ok, String error, int failureThreshold) {
    CredentialHealth h =
        credentials.compute(
            credential,
            (k, old) -> {
              int failures = ok ? 0 : (old == null ? 0 : old.consecutiveFailures()) + 1;
              return new CredentialHealth(
                  k,
                  failures < failureThreshold,
                  failures,
                  ok ? (old == null ? null : old.lastError()) : error,
                  Instant.now());
            });
    return h.up();
  }

  /** Forgets credentials that are no longer probed (removed, or probing turned off). */
  public void retain(java.util.Set<String> probed) {
    credentials.keySet().retainAll(probed);
  }

  public List<CredentialHealth> snapshot() {
    return credentials.values().stream()
        .sorted(java.util.Comparator.comparing(CredentialHealth::credential))
        .toList();
  }
}
