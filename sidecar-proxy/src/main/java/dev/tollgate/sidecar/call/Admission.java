package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.routing.InFlightLimit;
import dev.tollgate.sidecar.routing.Limiter;
import dev.tollgate.sidecar.routing.RateLimits;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * A call's place in the rate limits: the route's and the caller's buckets (taken once, before the
 * first attempt), the credential bucket of the current attempt, the tokens reserved in each, and
 * the time spent queueing for them, bounded by the route's {@code maxQueueWait}. The reservations
 * are settled on the reported usage when the call ends.
 */
final class Admission {
  private final RateLimits limits;
  private final RouteConfig route;
  private final Function<String, String> headers;
  private long reservedTokens;
  private long queuedNanos;
  private Limiter routeLimiter;
  private Limiter callerLimiter;
  private Limiter credentialLimiter;
  private InFlightLimit.Ticket slot;

  Admission(RateLimits limits, RouteConfig route, Function<String, String> headers) {
    this.limits = limits;
    this.route = route;
    this.headers = headers;
  }

  /** Reserves the estimated input plus the requested output in every bucket taken from now on. */
  void reserve(long tokens) {
    reservedTokens = tokens;
  }

  /**
   * Takes from the route's and the caller's buckets: zero when admitted, else how long until they
   * have capacity (nothing is kept taken then).
   */
  Duration tryAdmit() {
    RouteConfig.RateLimit rl = route.rateLimit();
    if (routeLimiter == null) {
      routeLimiter = limits.route(route);
    }
    if (callerLimiter == null && rl != null && rl.callerHeader() != null) {
      callerLimiter = limits.caller(route, headers.apply(rl.callerHeader()));
    }
    Duration wait = routeLimiter == null ? Duration.ZERO : routeLimiter.tryTake(reservedTokens);
    if (wait.isZero() && callerLimiter != null) {
      wait = callerLimiter.tryTake(reservedTokens);
      if (!wait.isZero() && routeLimiter != null) {
        routeLimiter.refund(reservedTokens);
      }
    }
    return wait;
  }

  /** The call cannot wait {@code wait} for the route's or caller's limit: the 429 it ends with. */
  ProxyException refused(String routeName, Duration wait) {
    String which = routeLimiter != null && callerLimiter == null ? "route" : "route or caller";
    routeLimiter = null;
    callerLimiter = null; // nothing was taken from them
    return limited("the " + which + " rate limit of route " + routeName + " is reached", wait);
  }

  /** Whether waiting {@code wait} more stays within the route's queueing allowance. */
  boolean queue(Duration wait) {
    RouteConfig.RateLimit rl = route.rateLimit();
    Duration allowed = rl == null ? Duration.ZERO : rl.maxQueueWait();
    if (queuedNanos + wait.toNanos() > allowed.toNanos()) {
      return false;
    }
    queuedNanos += wait.toNanos();
    return true;
  }

  /**
   * Takes one of the route's in-flight slots ({@code maxInFlight}), else a place in its queue when
   * some of {@code maxQueueWait} is left: then {@code onAdmitted} runs on {@code executor} once a
   * slot passes to the call, and {@link #abandonWait} ends the wait. The slot or place is freed by
   * {@link #settle}, however the call ends.
   */
  InFlightLimit.Entry enterInFlight(Executor executor, Runnable onAdmitted) {
    InFlightLimit gate = limits.inFlight(route);
    if (gate == null) {
      return InFlightLimit.Entry.ADMITTED;
    }
    slot = gate.ticket(executor, onAdmitted);
    InFlightLimit.Entry e = gate.enter(slot);
    if (e == InFlightLimit.Entry.QUEUED && queueLeft().isZero() && slot.abandonWait()) {
      return InFlightLimit.Entry.REFUSED;
    }
    return e;
  }

  /** What is left of the route's {@code maxQueueWait} (zero when none). */
  Duration queueLeft() {
    RouteConfig.RateLimit rl = route.rateLimit();
    Duration allowed = rl == null ? Duration.ZERO : rl.maxQueueWait();
    return Duration.ofNanos(Math.max(0, allowed.toNanos() - queuedNanos));
  }

  /** The wait for an in-flight slot is over: true when the call was still waiting (then: 429). */
  boolean abandonWait() {
    return slot != null && slot.abandonWait();
  }

  /** The route's in-flight cap and queue are full, or the wait ran out: the 429 it ends with. */
  ProxyException inFlightRefused(String routeName, boolean waited) {
    RouteConfig.RateLimit rl = route.rateLimit();
    return limited(
        "route "
            + routeName
            + " has its maxInFlight of "
            + rl.maxInFlight()
            + " calls in flight"
            + (waited ? " and no slot freed within maxQueueWait" : " and its queue is full"),
        Duration.ofSeconds(1));
  }

  /** Whether a credential at its limit sends the call to the next candidate (else a 429). */
  boolean failoverWhenLimited() {
    RouteConfig.RateLimit rl = route.rateLimit();
    return rl == null || rl.failoverWhenLimited();
  }

  /** {@code credential}'s bucket, or null when it has no limits. */
  Limiter credentialBucket(CredentialConfig credential) {
    return limits.credential(credential);
  }

  /** Takes from a credential's bucket: zero when taken, else how long until it has capacity. */
  Duration tryTake(Limiter credential) {
    return credential.tryTake(reservedTokens);
  }

  /** Gives back what was taken from a credential's bucket for an attempt that was not sent. */
  void refund(Limiter credential) {
    credential.refund(reservedTokens);
  }

  /** The current attempt took from {@code credential} (null: no limits). */
  void attemptTook(Limiter credential) {
    credentialLimiter = credential;
  }

  /** The current attempt failed: its credential's reservation is settled as unused. */
  void attemptFailed() {
    if (credentialLimiter != null) {
      credentialLimiter.settle(reservedTokens, 0);
      credentialLimiter = null;
    }
  }

  /**
   * Settles the reservations on what the provider reported; a call that produced no usage gives its
   * tokens back (its request still counts). Frees the call's in-flight slot or place in the queue.
   */
  void settle(long actualTokens) {
    if (slot != null) {
      slot.release();
    }
    for (Limiter l : new Limiter[] {routeLimiter, callerLimiter, credentialLimiter}) {
      if (l != null) {
        l.settle(reservedTokens, actualTokens);
      }
    }
  }

  /** A 429 with Retry-After in whole seconds, at least 1. */
  static ProxyException limited(String message, Duration wait) {
    long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
    return new ProxyException(
        ErrorKind.RATE_LIMITED,
        429,
        message + "; retry after " + seconds + " s",
        Long.toString(seconds));
  }
}
