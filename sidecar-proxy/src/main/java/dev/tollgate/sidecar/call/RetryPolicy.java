package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.routing.Backoff;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.time.Duration;
import java.time.Instant;

/**
 * When a failed attempt is tried again elsewhere or later (the route's {@code retry}): pure
 * functions of the failure and the call's progress.
 */
final class RetryPolicy {
  private RetryPolicy() {}

  /**
   * Which retryable failure an error is, or null when retrying cannot help (the request's fault).
   */
  static RouteConfig.RetryOn retryKind(ErrorKind k) {
    return switch (k) {
      case UPSTREAM_RATE_LIMITED -> RouteConfig.RetryOn.RATE_LIMITED;
      case UPSTREAM_ERROR,
          UPSTREAM_OVERLOADED,
          UPSTREAM_BAD_RESPONSE,
          UPSTREAM_STREAM_BROKEN,
          UPSTREAM_AUTH,
          MISSING_CREDENTIAL ->
          RouteConfig.RetryOn.SERVER_ERROR;
      case UPSTREAM_TIMEOUT -> RouteConfig.RetryOn.TIMEOUT;
      case UPSTREAM_CONNECT -> RouteConfig.RetryOn.CONNECTION_ERROR;
      default -> null;
    };
  }

  /**
   * Whether the call moves on to another attempt after {@code e}: never once bytes reached the
   * caller or the total timeout expired, and only for the failure kinds the route retries on. An
   * attempt outside the breakers (every candidate's circuit open) is retried like any other: a
   * route's only target with an open circuit is exactly where the retries are needed.
   */
  static boolean movesOn(
      ErrorKind e, boolean bytesSent, boolean totalExpired, RouteConfig.Retry retry) {
    RouteConfig.RetryOn kind = retryKind(e);
    return !bytesSent && !totalExpired && kind != null && retry.retryOn().contains(kind);
  }

  /**
   * The wait before the whole candidate list is tried again, or null when it is not: the retries
   * are spent, or the wait (the provider's, else the backoff) is longer than {@code backoffCap}.
   */
  static Duration retryDelay(int retriesDone, RouteConfig.Retry retry, Duration providerWait) {
    if (retriesDone >= retry.attempts()) {
      return null;
    }
    Duration wait =
        providerWait != null
            ? providerWait
            : Backoff.delay(retriesDone, retry.backoffBase(), retry.backoffCap());
    return wait.compareTo(retry.backoffCap()) <= 0 ? wait : null;
  }

  /**
   * The wait the provider asked for with a failed attempt: its rate-limit headers ({@code
   * headerWait}), else the Retry-After the failure carries; null when it asked for none.
   */
  static Duration providerWait(Duration headerWait, ProxyException e, Instant now) {
    if (headerWait != null) {
      return headerWait;
    }
    if (e.retryAfter() != null) {
      return Backoff.providerWait(h -> "retry-after".equals(h) ? e.retryAfter() : null, now);
    }
    return null;
  }
}
