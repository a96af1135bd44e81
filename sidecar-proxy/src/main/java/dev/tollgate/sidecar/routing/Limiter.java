package dev.tollgate.sidecar.routing;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TokensInheritanceStrategy;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * Requests-per-minute and tokens-per-minute token buckets (Bucket4j) for one scope: a route, a
 * credential or a caller. Each bucket holds one minute's worth and refills continuously, so a burst
 * of up to the per-minute limit is allowed and the long-run rate holds. Limits can be replaced at
 * runtime (the operator's share of a credential's limits) without losing what was consumed.
 *
 * <p>An optional tokens-per-day bucket refills whole at 00:00 UTC each day (Bucket4j's aligned
 * interval refill); a new bucket (a new sidecar process) starts full.
 */
public final class Limiter {
  private volatile Long requestsPerMinute;
  private volatile Long tokensPerMinute;
  private volatile Long tokensPerDay;
  private final Bucket requests;
  private final Bucket tokens;
  private final Bucket daily;

  /** Null limits are unlimited. */
  public Limiter(Long requestsPerMinute, Long tokensPerMinute) {
    this(requestsPerMinute, tokensPerMinute, null);
  }

  /** Null limits are unlimited; {@code tokensPerDay} is per UTC day. */
  public Limiter(Long requestsPerMinute, Long tokensPerMinute, Long tokensPerDay) {
    this.requestsPerMinute = requestsPerMinute;
    this.tokensPerMinute = tokensPerMinute;
    this.tokensPerDay = tokensPerDay;
    this.requests = requestsPerMinute == null ? null : bucket(requestsPerMinute);
    this.tokens = tokensPerMinute == null ? null : bucket(tokensPerMinute);
    this.daily =
        tokensPerDay == null
            ? null
            : Bucket.builder().addLimit(dailyBandwidth(tokensPerDay)).build();
  }

  private static Bandwidth dailyBandwidth(long perDay) {
    long n = Math.max(1, perDay);
    Instant nextMidnight =
        LocalDate.now(ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    return Bandwidth.builder()
        .capacity(n)
        .refillIntervallyAligned(n, Duration.ofDays(1), nextMidnight)
        .build();
  }

  /**
   * The fraction of today's tokens-per-day limit used (more than 1 when calls used more than they
   * reserved), or NaN when this scope has no daily limit.
   */
  public double dailyUsedRatio() {
    Long tpd = tokensPerDay;
    if (daily == null || tpd == null || tpd == 0) {
      return Double.NaN;
    }
    return (double) (tpd - daily.getAvailableTokens()) / tpd;
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
    return sameAs(rpm, tpm, null);
  }

  boolean sameAs(Long rpm, Long tpm, Long tpd) {
    return Objects.equals(requestsPerMinute, rpm)
        && Objects.equals(tokensPerMinute, tpm)
        && Objects.equals(tokensPerDay, tpd);
  }

  /** Limits the same dimensions (so that {@link #replace} can change them in place). */
  boolean sameShape(Long rpm, Long tpm) {
    return sameShape(rpm, tpm, null);
  }

  boolean sameShape(Long rpm, Long tpm, Long tpd) {
    return (requests == null) == (rpm == null)
        && (tokens == null) == (tpm == null)
        && (daily == null) == (tpd == null);
  }

  /**
   * Replaces the limits, keeping the consumed share; a null limit keeps the bucket's current one (a
   * scope configured unlimited stays unlimited).
   */
  public void replace(Long rpm, Long tpm) {
    replace(rpm, tpm, null);
  }

  /** {@link #replace(Long, Long)} with a tokens-per-day limit too (null keeps the current one). */
  public void replace(Long rpm, Long tpm, Long tpd) {
    if (daily != null && tpd != null && !tpd.equals(tokensPerDay)) {
      daily.replaceConfiguration(
          BucketConfiguration.builder().addLimit(dailyBandwidth(tpd)).build(),
          TokensInheritanceStrategy.PROPORTIONALLY);
      tokensPerDay = tpd;
    }
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
    Long tpd = tokensPerDay;
    if ((rpm != null && rpm == 0) || (tpm != null && tpm == 0) || (tpd != null && tpd == 0)) {
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
    if (daily != null && reserveTokens > 0) {
      ConsumptionProbe p = daily.tryConsumeAndReturnRemaining(Math.min(reserveTokens, tpd));
      if (!p.isConsumed()) {
        if (requests != null) {
          requests.addTokens(1);
        }
        if (tokens != null) {
          tokens.addTokens(Math.min(reserveTokens, tokensPerMinute));
        }
        return Duration.ofNanos(p.getNanosToWaitForRefill()); // until 00:00 UTC
      }
    }
    return Duration.ZERO;
  }

  /** Corrects a reservation with the actual usage: gives back the excess or takes the rest. */
  public void settle(long reserved, long actual) {
    if (daily != null) {
      long r = Math.min(reserved, tokensPerDay);
      if (actual < r) {
        daily.addTokens(r - actual);
      } else if (actual > r) {
        daily.consumeIgnoringRateLimits(actual - r);
      }
    }
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
    if (daily != null && reserved > 0) {
      daily.addTokens(Math.min(reserved, tokensPerDay));
    }
  }
}
