package dev.tollgate.sidecar.routing;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TokensInheritanceStrategy;
import java.time.Duration;
import java.util.Objects;

/**
 * Requests-per-minute and tokens-per-minute token buckets (Bucket4j) for one scope: a route, a
 * credential or a caller. Each bucket holds one minute's worth and refills continuously, so a burst
 * of up to the per-minute limit is allowed and the long-run rate holds. Limits can be replaced at
 * runtime (the operator's share of a credential's limits) without losing what was consumed.
 */
public final class Limiter {
  private volatile Long requestsPerMinute;
  private volatile Long tokensPerMinute;
  private final Bucket requests;
  private final Bucket tokens;

  /** Null limits are unlimited. */
  public Limiter(Long requestsPerMinute, Long tokensPerMinute) {
    this.requestsPerMinute = requestsPerMinute;
    this.tokensPerMinute = tokensPerMinute;
    this.requests = requestsPerMinute == null ? null : bucket(requestsPerMinute);
    this.tokens = tokensPerMinute == null ? null : bucket(tokensPerMinute);
  }

  private static Bucket bucket(long perMinute) {
    return Bucket.builder().addLimit(bandwidth(perMinute)).build();
  }

  private static Bandwidth bandwidth(long perMinute) {
    long n = Math.max(1, perMinute);
    return Bandwidth.builder().capacity(n).refillGreedy(n, Duration.ofMinutes(1)).build();
  }

  /** Same limits as configured (a reload need not reset the buckets). */
  boolean sameAs(Long rpm, Long tpm) {
    return Objects.equals(requestsPerMinute, rpm) && Objects.equals(tokensPerMinute, tpm);
  }

  /** Limits the same dimensions (so that {@link #replace} can change them in place). */
  boolean sameShape(Long rpm, Long tpm) {
    return (requests == null) == (rpm == null) && (tokens == null) == (tpm == null);
  }

  /**
   * Replaces the limits, keeping the consumed share; a null limit keeps the bucket's current one (a
   * scope configured unlimited stays unlimited).
   */
  public void replace(Long rpm, Long tpm) {
    // Replacing a bucket's configuration by the same one is not free: measured under load, each
    // replacement let a token or two more through (the operator restates a share every report).
    if (requests != null && rpm != null && !rpm.equals(requestsPerMinute)) {
      requests.replaceConfiguration(
          BucketConfiguration.builder().addLimit(bandwidth(rpm)).build(),
          TokensInheritanceStrategy.PROPORTIONALLY);
      requestsPerMinute = rpm;
    }
    if (tokens != null && tpm != null && !tpm.equals(tokensPerMinute)) {
      tokens.replaceConfiguration(
          BucketConfiguration.builder().addLimit(bandwidth(tpm)).build(),
          TokensInheritanceStrategy.PROPORTIONALLY);
      tokensPerMinute = tpm;
    }
  }

  /** What a scope whose limit is 0 (a credential share not granted yet) answers: ask again soon. */
  static final Duration NOTHING_GRANTED_WAIT = Duration.ofSeconds(1);

  /**
   * Takes one request and {@code reserveTokens} tokens, or nothing: returns {@link Duration#ZERO}
   * when taken, else how long until both would be available. A limit of 0 admits nothing (a bucket
   * cannot be empty by construction, so this is checked first).
   */
  public Duration tryTake(long reserveTokens) {
    Long rpm = requestsPerMinute;
    Long tpm = tokensPerMinute;
    if ((rpm != null && rpm == 0) || (tpm != null && tpm == 0)) {
      return NOTHING_GRANTED_WAIT;
    }
    if (requests != null) {
      ConsumptionProbe p = requests.tryConsumeAndReturnRemaining(1);
      if (!p.isConsumed()) {
        return Duration.ofNanos(p.getNanosToWaitForRefill());
      }
    }
    if (tokens != null && reserveTokens > 0) {
      long want = Math.min(reserveTokens, tokensPerMinute);
      ConsumptionProbe p = tokens.tryConsumeAndReturnRemaining(want);
      if (!p.isConsumed()) {
        if (requests != null) {
          requests.addTokens(1);
        }
        return Duration.ofNanos(p.getNanosToWaitForRefill());
      }
    }
    return Duration.ZERO;
  }

  /** Corrects a reservation with the actual usage: gives back the excess or takes the rest. */
  public void settle(long reserved, long actual) {
    if (tokens == null) {
      return;
    }
    reserved = Math.min(reserved, tokensPerMinute);
    if (actual == reserved) {
      return;
    }
    if (actual < reserved) {
      tokens.addTokens(reserved - actual);
    } else {
      tokens.consumeIgnoringRateLimits(actual - reserved);
    }
  }

  /** Gives back a reservation that was never used (the attempt did not reach the provider). */
  public void refund(long reserved) {
    if (requests != null) {
      requests.addTokens(1);
    }
    if (tokens != null && reserved > 0) {
      tokens.addTokens(Math.min(reserved, tokensPerMinute));
    }
  }
}
