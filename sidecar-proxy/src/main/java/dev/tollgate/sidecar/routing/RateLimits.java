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
  private final Map<String, long[]> shares = new ConcurrentHashMap<>();
  // Callers come and go; idle ones are forgotten so the map stays bounded.
  private final Cache<String, Limiter> callers =
      Caffeine.newBuilder().maximumSize(100_000).expireAfterAccess(Duration.ofMinutes(5)).build();

  /** The route's own limiter, or null when the route sets no limit. */
  public Limiter route(RouteConfig r) {
    RouteConfig.RateLimit rl = r.rateLimit();
    if (rl == null || (rl.requestsPerMinute() == null && rl.tokensPerMinute() == null)) {
      return null;
    }
    Long rpm = rl.requestsPerMinute() == null ? null : rl.requestsPerMinute().longValue();
    return current(routes, r.model(), rpm, rl.tokensPerMinute());
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
    if (l == null || (l.requestsPerMinute() == null && l.tokensPerMinute() == null)) {
      return null;
    }
    long[] share = shares.get(c.name());
    Long rpm = l.requestsPerMinute() == null ? null : l.requestsPerMinute().longValue();
    Long tpm = l.tokensPerMinute();
    if (share != null) {
      rpm = rpm == null ? null : share[0];
      tpm = tpm == null ? null : share[1];
    }
    return current(credentials, c.name(), rpm, tpm);
  }

  /** This sidecar's share of a credential's limits, replacing the configured ones at runtime. */
  public void shareCredential(String credential, long requestsPerMinute, long tokensPerMinute) {
    shares.put(credential, new long[] {requestsPerMinute, tokensPerMinute});
    Limiter l = credentials.get(credential);
    if (l != null) {
      l.replace(requestsPerMinute, tokensPerMinute);
    }
  }

  private static Limiter current(Map<String, Limiter> map, String key, Long rpm, Long tpm) {
    return map.compute(
        key,
        (k, l) -> {
          if (l != null && l.sameAs(rpm, tpm)) {
            return l;
          }
          if (l != null && l.sameShape(rpm, tpm)) {
            l.replace(rpm, tpm);
            return l;
          }
          return new Limiter(rpm, tpm);
        });
  }
}
