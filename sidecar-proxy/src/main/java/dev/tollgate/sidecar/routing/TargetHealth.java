package dev.tollgate.sidecar.routing;

import dev.tollgate.sidecar.config.RouteConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Passive health of one route target: a Resilience4j circuit breaker over a time-based sliding
 * window, fed with each attempt's outcome and time to first byte, plus recent TTFT samples for
 * percentiles and the last error. The seed's "TTFT over 2 s" is read as p95: the breaker's
 * slow-call threshold is 5% of calls slower than the route's {@code slowFirstToken}, which is
 * exactly "p95 above it". After the cooldown one live request probes the target (half-open);
 * success closes it.
 */
public final class TargetHealth {
  private static final int TTFT_SAMPLES = 256;

  private final String route;
  private final String tier;
  private final String credential;
  private final String provider;
  private final String model;
  private final RouteConfig.CircuitBreaker settings;
  private final CircuitBreaker breaker;
  private final long[] ttftMillis = new long[TTFT_SAMPLES];
  private int ttftCount;
  private int ttftNext;
  private volatile String lastError;
  private volatile Instant lastErrorAt;

  TargetHealth(
      String route,
      String tier,
      String credential,
      String provider,
      String model,
      RouteConfig.CircuitBreaker settings) {
    this.route = route;
    this.tier = tier;
    this.credential = credential;
    this.provider = provider;
    this.model = model;
    this.settings = settings;
    this.breaker =
        CircuitBreaker.of(
            route + "/" + tier + "/" + credential + "/" + model,
            CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.TIME_BASED)
                .slidingWindowSize((int) Math.max(1, settings.window().toSeconds()))
                .minimumNumberOfCalls(settings.minRequests())
                .failureRateThreshold(above(settings.errorRatePercent()))
                .slowCallRateThreshold(above(5))
                .slowCallDurationThreshold(settings.slowFirstToken())
                .waitDurationInOpenState(settings.cooldown())
                .permittedNumberOfCallsInHalfOpenState(1)
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .build());
  }

  /** Resilience4j opens at a rate equal to its threshold; the seeds' rule is strictly above. */
  private static float above(int percent) {
    return Math.min(100f, Math.nextUp((float) percent));
  }

  RouteConfig.CircuitBreaker settings() {
    return settings;
  }

  /**
   * Whether this target may take a request now; when true the caller must report the outcome with
   * {@link #succeeded}, {@link #failed} or {@link #released}.
   */
  public boolean tryAcquire() {
    return breaker.tryAcquirePermission();
  }

  /** The target answered; {@code ttft} is the time to its first byte. */
  public void succeeded(Duration ttft) {
    breaker.onSuccess(ttft.toNanos(), TimeUnit.NANOSECONDS);
    synchronized (ttftMillis) {
      ttftMillis[ttftNext] = ttft.toMillis();
      ttftNext = (ttftNext + 1) % TTFT_SAMPLES;
      ttftCount = Math.min(TTFT_SAMPLES, ttftCount + 1);
    }
  }

  /**
   * The target answered a call whose time to first token says nothing (a whole non-streamed
   * answer): counts for the error rate, adds no TTFT sample.
   */
  public void succeededWithoutTtft() {
    breaker.onSuccess(0, TimeUnit.NANOSECONDS);
  }

  /** The target failed; {@code what} is a short description without secrets or prompt text. */
  public void failed(Duration elapsed, String what) {
    breaker.onError(elapsed.toNanos(), TimeUnit.NANOSECONDS, new TargetFailure(what));
    lastError = what;
    lastErrorAt = Instant.now();
  }

  /** The attempt ended without telling anything about the target (the caller went away). */
  public void released() {
    breaker.releasePermission();
  }

  /** OPEN stays OPEN after the cooldown until a request asks (Resilience4j moves it lazily). */
  public CircuitState state() {
    return switch (breaker.getState()) {
      case HALF_OPEN -> CircuitState.HALF_OPEN;
      case OPEN, FORCED_OPEN -> CircuitState.OPEN;
      default -> CircuitState.CLOSED;
    };
  }

  public TargetHealthSnapshot snapshot() {
    long[] sorted;
    synchronized (ttftMillis) {
      sorted = Arrays.copyOf(ttftMillis, ttftCount);
    }
    Arrays.sort(sorted);
    CircuitBreaker.Metrics m = breaker.getMetrics();
    float rate = m.getFailureRate();
    return new TargetHealthSnapshot(
        route,
        tier,
        credential,
        provider,
        model,
        state(),
        m.getNumberOfBufferedCalls(),
        rate < 0 ? 0 : rate,
        percentile(sorted, 50),
        percentile(sorted, 95),
        lastError,
        lastErrorAt);
  }

  private static long percentile(long[] sorted, int p) {
    if (sorted.length == 0) {
      return -1;
    }
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, i)];
  }

  /** What the breaker counts as a failure; no stack trace, it is never thrown. */
  private static final class TargetFailure extends RuntimeException {
    TargetFailure(String message) {
      super(message, null, false, false);
    }
  }
}
