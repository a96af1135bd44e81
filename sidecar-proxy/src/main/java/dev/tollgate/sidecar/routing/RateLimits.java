package dev.tollgate.sidecar.routing;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sidecar's rate limiters: per route, per credential and per caller (when the route keys limits
 * by a header). A credential's limit is the configured one until {@link #shareCredential} gives
 * this sidecar its share of the account (the operator's live-state reply, issue 7).
 */
public final class RateLimits {
  private final Map<String, Limiter> routes = new ConcurrentHashMap<>();
  private final Map<String, Limiter> credentials = new ConcurrentHashMap<>();
  private final Map<String, Long[]> shares = new ConcurrentHashMap<>();
  private final Map<String, InFlightLimit> inFlight = new ConcurrentHashMap<>();
  private volatile boolean withholdUnshared;
  // Callers come and go; idle ones are forgotten so the map stays bounded.
  private final Cache<String, Limiter> callers =
      Caffeine.newBuilder().maximumSize(100_000).expireAfterAccess(Duration.ofMinutes(5)).build();

  /** The route's own limiter, or null when the route sets no limit. */
  public Limiter route(RouteConfig r) {
    RouteConfig.RateLimit rl = r.rateLimit();
    if (rl == null
        || (rl.requestsPerMinute() == null
            && rl.tokensPerMinute() == null
            && rl.tokensPerDay() == null)) {
      return null;
    }
    Long rpm = rl.requestsPerMinute() == null ? null : rl.requestsPerMinute().longValue();
    return current(routes, r.model(), rpm, rl.tokensPerMinute(), rl.tokensPerDay());
  }

  /** The route's cap on calls in flight in this sidecar, or null when it sets none. */
  public InFlightLimit inFlight(RouteConfig r) {
    RouteConfig.RateLimit rl = r.rateLimit();
    if (rl == null || rl.maxInFlight() == null) {
      return null;
    }
    int max = rl.maxInFlight();
    int queue = rl.maxQueue();
    return inFlight.compute(
        r.model(),
        (k, g) -> {
          if (g == null) {
            return new InFlightLimit(max, queue);
          }
          if (!g.sameAs(max, queue)) {
            g.resize(max, queue);
          }
          return g;
        });
  }

  /** The caller's limiter on this route, or null when the route has no per-caller limit. */
  public Limiter caller(RouteConfig r, String callerKey) {
    RouteConfig.RateLimit rl = r.rateLimit();
    if (rl == null || rl.perCaller() == null || callerKey == null) {
      return null;
    }
    RouteConfig.CallerLimit c = rl.perCaller();
    Long rpm = c.requestsPerMinute() == null ? null : c.requestsPerMinute().longValue();
    if (rpm == null && c.tokensPerMinute() == null) {
      return null;
    }
    String key = r.model() + "\n" + callerKey;
    Limiter l = callers.get(key, k -> new Limiter(rpm, c.tokensPerMinute()));
    if (!l.sameAs(rpm, c.tokensPerMinute())) {
      l = new Limiter(rpm, c.tokensPerMinute());
      callers.put(key, l);
    }
    return l;
  }

  /** The credential's limiter (its share when one was assigned), or null when unlimited. */
  public Limiter credential(CredentialConfig c) {
    CredentialConfig.Limits l = c.limits();
    if (l == null
        || (l.requestsPerMinute() == null
            && l.tokensPerMinute() == null
            && l.tokensPerDay() == null)) {
      return null;
    }
    Long[] share = shares.get(c.name());
    Long rpm = l.requestsPerMinute() == null ? null : l.requestsPerMinute().longValue();
    Long tpm = l.tokensPerMinute();
    Long tpd = l.tokensPerDay();
    if (share == null && withholdUnshared) {
      share = new Long[] {0L, 0L, 0L};
    }
    if (share != null) {
      rpm = rpm == null || share[0] == null ? rpm : share[0];
      tpm = tpm == null || share[1] == null ? tpm : share[1];
      // the day's tokens are divided like the minute's: an equal share per live sidecar
      // (no live count yet, while withheld: nothing)
      if (tpd != null && share[2] != null) {
        tpd = share[2] <= 0 ? Long.valueOf(0) : Long.valueOf(tpd / share[2]);
      }
    }
    return current(credentials, c.name(), rpm, tpm, tpd);
  }

  /** This sidecar's share of a credential's limits, replacing the configured ones at runtime. */
  public void shareCredential(String credential, long requestsPerMinute, long tokensPerMinute) {
    shareCredential(credential, (Long) requestsPerMinute, (Long) tokensPerMinute);
  }

  /**
   * This sidecar's share of a credential's limits, replacing the configured ones at runtime; a null
   * dimension keeps the configured limit.
   */
  public void shareCredential(String credential, Long requestsPerMinute, Long tokensPerMinute) {
    shareCredential(credential, requestsPerMinute, tokensPerMinute, null);
  }

  /**
   * {@link #shareCredential(String, Long, Long)}, and the number of live sidecars the operator
   * divides the credential's limits among: this sidecar's tokens-per-day share is the configured
   * limit divided by it (null: the whole configured limit). Takes effect on the credential's next
   * use.
   */
  public void shareCredential(
      String credential, Long requestsPerMinute, Long tokensPerMinute, Integer liveSidecars) {
    shares.put(
        credential,
        new Long[] {
          requestsPerMinute, tokensPerMinute, liveSidecars == null ? null : (long) liveSidecars
        });
    Limiter l = credentials.get(credential);
    if (l != null) {
      l.replace(requestsPerMinute, tokensPerMinute);
    }
  }

  /** One scope's share of its tokens-per-day limit used today. */
  public record DailyUse(String scope, String name, double usedRatio) {}

  /** Today's use of every route and credential with a tokens-per-day limit (for the metrics). */
  public java.util.List<DailyUse> dailyUse() {
    java.util.List<DailyUse> out = new java.util.ArrayList<>();
    routes.forEach(
        (name, l) -> {
          double r = l.dailyUsedRatio();
          if (!Double.isNaN(r)) {
            out.add(new DailyUse("route", name, r));
          }
        });
    credentials.forEach(
        (name, l) -> {
          double r = l.dailyUsedRatio();
          if (!Double.isNaN(r)) {
            out.add(new DailyUse("credential", name, r));
          }
        });
    return out;
  }

  /**
   * From now on a limited credential with no share yet admits nothing (instead of its whole
   * configured limit): for a sidecar whose limits are shared with other pods, until the operator's
   * first reply says how much is its own.
   */
  public void withholdUnsharedCredentials() {
    withholdUnshared = true;
  }

  /**
   * Ends {@link #withholdUnsharedCredentials}: a credential without a share has its configured
   * limit again (the operator's reply named the credentials whose limits it divides).
   */
  public void shareUnnamedCredentialsFully() {
    withholdUnshared = false;
  }

  private static Limiter current(
      Map<String, Limiter> map, String key, Long rpm, Long tpm, Long tpd) {
    return map.compute(
        key,
        (k, l) -> {
          if (l != null && l.sameAs(rpm, tpm, tpd)) {
            return l;
          }
          if (l != null && l.sameShape(rpm, tpm, tpd)) {
            l.replace(rpm, tpm, tpd);
            return l;
          }
          return new Limiter(rpm, tpm, tpd);
        });
  }
}
