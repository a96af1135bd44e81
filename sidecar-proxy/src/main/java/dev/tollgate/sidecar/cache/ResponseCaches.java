package dev.tollgate.sidecar.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.sidecar.config.CacheKeySecret;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.format.CallerFormat;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.wire.ApiFormat;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The response caches of the sidecar's routes (spec.cache.response), rebuilt from each applied
 * configuration on the watcher thread (never on an event loop: connecting to Redis reads the
 * password file), and the policy that decides per request whether the cache is read, written or
 * bypassed. A route keeps its cache across reloads as long as its cache settings are unchanged.
 */
public final class ResponseCaches implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ResponseCaches.class);

  /** The temperature of a request that sets none: OpenAI's and Anthropic's default. */
  static final BigDecimal DEFAULT_TEMPERATURE = BigDecimal.ONE;

  private final ProxyMetrics metrics;
  private final UsageLedger ledger;
  private final Ticker ticker;
  private final Executor maintenance;
  private final Function<RouteConfig.Redis, RedisAnswerStore> redisFactory;
  private final Map<String, RouteAnswerCache> routes = new ConcurrentHashMap<>();
  private final Map<RouteConfig.Redis, RedisAnswerStore> redis = new ConcurrentHashMap<>();

  public ResponseCaches(ProxyMetrics metrics, UsageLedger ledger) {
    this(metrics, ledger, Ticker.systemTicker(), Runnable::run);
  }

  /**
   * @param ticker the clock for expiry (tests pass a fake one)
   * @param maintenance runs Caffeine's eviction work
   */
  ResponseCaches(ProxyMetrics metrics, UsageLedger ledger, Ticker ticker, Executor maintenance) {
    this.metrics = metrics;
    this.ledger = ledger;
    this.ticker = ticker;
    this.maintenance = maintenance;
    this.redisFactory =
        r -> new RedisAnswerStore(r.url(), r.passwordFile(), op -> metrics.cacheRedisError(op));
    metrics.responseCacheSizes(this::sizes);
  }

  /** Builds the caches {@code cfg} declares; keeps those whose settings did not change. */
  public synchronized void configure(SidecarConfig cfg) {
    Set<String> seen = new HashSet<>();
    for (RouteConfig r : cfg.routes()) {
      RouteConfig.ResponseCache rc = r.cache().response();
      if (!rc.enabled()) {
        continue;
      }
      seen.add(r.model());
      boolean wantsRedis = rc.backend() == RouteConfig.CacheBackend.REDIS && rc.redis() != null;
      RouteAnswerCache existing = routes.get(r.model());
      // a route that went without Redis for want of the key looks for it again on each change
      if (existing != null
          && existing.settings.equals(rc)
          && (!wantsRedis || existing.sharesThroughRedis())) {
        continue;
      }
      RedisAnswerStore store = null;
      RedisEntrySeal seal = null;
      if (wantsRedis) {
        byte[] key = cacheKey(rc.redis().keyFile());
        if (key == null) {
          metrics.cacheRedisUnkeyed(r.model());
          LOG.warn(
              "response cache of route {}: no Redis without the namespace's cache key (file {}, the"
                  + " Secret {} the operator creates); answers are cached in this pod only until"
                  + " the key is mounted and the configuration changes, or the pod restarts",
              r.model(),
              rc.redis().keyFile() == null ? "not configured" : rc.redis().keyFile(),
              CacheKeySecret.NAME);
        } else {
          store = redis.computeIfAbsent(rc.redis(), redisFactory);
          seal = new RedisEntrySeal(key);
        }
      }
      LocalAnswerCache local =
          new LocalAnswerCache(
              rc.ttl(), rc.retention(), rc.maxEntries(), rc.maxSizeBytes(), ticker, maintenance);
      String prefix =
          "tollgate:rc:"
              + CacheKey.sha256(cfg.namespace() + "/" + r.model()).substring(0, 16)
              + ":";
      routes.put(r.model(), new RouteAnswerCache(rc, local, store, seal, prefix));
    }
    routes.keySet().retainAll(seen);
    // Redis connections no route uses any more (its URL or password file changed, or the cache
    // was switched off) are closed; calls in flight on them read a miss.
    Set<RouteConfig.Redis> used = new HashSet<>();
    routes.values().stream()
        .filter(RouteAnswerCache::sharesThroughRedis)
        .forEach(c -> used.add(c.settings.redis()));
    redis
        .entrySet()
        .removeIf(
            e -> {
              if (used.contains(e.getKey())) {
                return false;
              }
              e.getValue().close();
              return true;
            });
  }

  /** The namespace's cache key, or null when it is missing, unreadable or too short. */
  private static byte[] cacheKey(String file) {
    if (file == null) {
      return null;
    }
    try {
      byte[] key = Files.readAllBytes(Path.of(file));
      return key.length >= CacheKeySecret.MIN_BYTES ? key : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** Whether {@code route} has a response cache in force. */
  public boolean caches(RouteConfig route) {
    return route.cache().response().enabled() && routes.containsKey(route.model());
  }

  /**
   * What the cache does for this request, or null when the route has no response cache.
   *
   * <p>{@code Cache-Control: no-store} neither reads nor stores; {@code no-cache} does not read but
   * stores the fresh answer. A request sampling above the route's {@code maxTemperature} (a request
   * without a temperature samples at 1), asking for several choices ({@code n > 1}) or for log
   * probabilities (which a replay would not carry) is bypassed, unless the route's {@code
   * cacheAboveMaxTemperature} allows the temperature. Answers that are not sampled (embeddings,
   * token counts) are always deterministic enough.
   */
  public CacheTicket ticket(
      String namespace,
      RouteConfig route,
      RouteConfig.Tier tier,
      ApiFormat format,
      JsonNode request,
      String cacheControl,
      String anthropicBeta) {
    RouteAnswerCache cache = routes.get(route.model());
    RouteConfig.ResponseCache rc = route.cache().response();
    if (cache == null || !rc.enabled()) {
      return null;
    }
    Set<String> directives = directives(cacheControl);
    boolean read = !directives.contains("no-cache") && !directives.contains("no-store");
    boolean store = !directives.contains("no-store");
    if (CallerFormat.of(format).samples() && !deterministicEnough(rc, request)) {
      read = false;
      store = false;
    }
    String key = CacheKey.of(namespace, route.model(), tier, format, request, anthropicBeta);
    CacheTicket t = new CacheTicket(this, cache, route.model(), key, read, store);
    if (!read) {
      counted(route.model(), "bypass");
    }
    return t;
  }

  private static boolean deterministicEnough(RouteConfig.ResponseCache rc, JsonNode request) {
    if (request.path("n").asInt(1) > 1
        || request.path("logprobs").asBoolean(false)
        || request.hasNonNull("top_logprobs")) {
      return false;
    }
    JsonNode t = request.get("temperature");
    // a non-finite temperature is refused when the request is parsed; never decimalValue() it here
    BigDecimal temperature =
        t != null && t.isNumber() && Double.isFinite(t.asDouble())
            ? t.decimalValue()
            : DEFAULT_TEMPERATURE;
    return temperature.compareTo(rc.maxTemperature()) <= 0 || rc.cacheAboveMaxTemperature();
  }

  static Set<String> directives(String cacheControl) {
    Set<String> out = new HashSet<>();
    if (cacheControl != null) {
      for (String d : cacheControl.split(",")) {
        String name = d.trim().toLowerCase(Locale.ROOT);
        int eq = name.indexOf('=');
        out.add(eq < 0 ? name : name.substring(0, eq).trim());
      }
    }
    return out;
  }

  void counted(String route, String result) {
    metrics.cacheResult(route, result);
  }

  /** Meters a hit: nothing spent, the original call's tokens and cost saved. */
  public void meterHit(String route, CachedAnswer a) {
    ledger.recordCacheHit(
        new UsageLedger.Key(route, a.tier(), a.credential(), a.model()),
        a.response().usage(),
        a.costUsd());
    metrics.cacheSaved(route, a.response().usage(), a.costUsd());
  }

  private List<ProxyMetrics.CacheSample> sizes() {
    List<ProxyMetrics.CacheSample> out = new ArrayList<>();
    routes.forEach(
        (route, c) ->
            out.add(new ProxyMetrics.CacheSample(route, c.local.entries(), c.local.bytes())));
    return out;
  }

  /** The in-process cache of {@code route}, if it has one (tests). */
  LocalAnswerCache local(String route) {
    RouteAnswerCache c = routes.get(route);
    return c == null ? null : c.local;
  }

  @Override
  public synchronized void close() {
    routes.clear();
    redis.values().forEach(RedisAnswerStore::close);
    redis.clear();
  }
}
