package dev.tollgate.operator.report;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;

/**
 * Requests per authenticated reporter (a pod): a sidecar reports every 2 s and at once when an
 * allowance or a caller quota runs out, so {@code perSecond} a second with a burst of {@code burst}
 * leaves it room while one pod cannot keep the accounting thread or the API server busy for the
 * others. Buckets of pods that went quiet are dropped.
 */
final class ReporterRateLimit {
  private final Cache<String, Bucket> buckets;
  private final long burst;
  private final long perSecond;

  ReporterRateLimit(long burst, long perSecond) {
    this.burst = burst;
    this.perSecond = perSecond;
    this.buckets =
        Caffeine.newBuilder().maximumSize(100_000).expireAfterAccess(Duration.ofMinutes(5)).build();
  }

  /** Whether {@code reporter} may make one more request now. */
  boolean tryAcquire(TokenReviewer.Identity reporter) {
    return buckets
        .get(
            reporter.reporter(),
            k ->
                Bucket.builder()
                    .addLimit(
                        Bandwidth.builder()
                            .capacity(burst)
                            .refillGreedy(perSecond, Duration.ofSeconds(1))
                            .build())
                    .build())
        .tryConsume(1);
  }
}
