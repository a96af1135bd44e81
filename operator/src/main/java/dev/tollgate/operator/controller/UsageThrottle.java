package dev.tollgate.operator.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Holds back status patches that only move usage figures (spend, percent used, request counts): at
 * most one per object every {@code interval}, so a namespace reporting all the time does not patch
 * every Budget, LLMRoute and ProviderCredential on each ledger write. A change that matters (a
 * phase, a condition, an alert threshold, a caller over quota, a target's health) goes out at once,
 * and carries the usage figures with it.
 */
final class UsageThrottle {
  private final Duration interval;
  private final Clock clock;
  private final ConcurrentHashMap<String, Instant> lastPatch = new ConcurrentHashMap<>();

  UsageThrottle(Duration interval, Clock clock) {
    this.interval = interval;
    this.clock = clock;
  }

  /**
   * Whether to patch now. Null: patch now (the patch is then counted); otherwise how long to wait
   * before reconciling again to patch the usage figures.
   *
   * @param significant the status changed beyond usage figures
   */
  Duration hold(HasMetadata object, boolean significant) {
    String key =
        object.getKind()
            + "/"
            + object.getMetadata().getNamespace()
            + "/"
            + object.getMetadata().getName();
    Instant now = clock.instant();
    if (!significant && !interval.isZero()) {
      Instant last = lastPatch.get(key);
      if (last != null && now.isBefore(last.plus(interval))) {
        // a little later than due, so the reconcile finds the interval over
        return Duration.between(now, last.plus(interval)).plusMillis(50);
      }
    }
    lastPatch.put(key, now);
    if (lastPatch.size() > MAX_TRACKED) {
      // deleted objects: forget the oldest half's worth rather than grow without bound
      Instant cutoff = now.minus(interval.multipliedBy(2));
      lastPatch.values().removeIf(t -> t.isBefore(cutoff));
    }
    return null;
  }

  private static final int MAX_TRACKED = 100_000;
}
