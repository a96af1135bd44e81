package dev.tollgate.sidecar.cache;

import dev.tollgate.sidecar.config.RouteConfig;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * The response cache of one route: the in-process cache, and behind it the shared Redis when the
 * route says so. A lookup reads memory first, then Redis, and keeps what Redis had in memory; a
 * write goes to both. A copy taken from Redis lives in memory for the route's TTL from when it was
 * taken, so a pod may replay it up to one TTL longer than Redis keeps it.
 */
final class RouteAnswerCache {
  final RouteConfig.ResponseCache settings;
  final LocalAnswerCache local;
  private final RedisAnswerStore redis;
  private final RedisEntrySeal seal;
  private final String redisPrefix;
  private final LongSupplier clock;

  /**
   * @param redisPrefix names this namespace and route in Redis keys (a hash, so names never need
   *     escaping and a key never collides with another route's)
   * @param seal the namespace's cache key; Redis is used only with one (null when {@code redis} is)
   */
  RouteAnswerCache(
      RouteConfig.ResponseCache settings,
      LocalAnswerCache local,
      RedisAnswerStore redis,
      RedisEntrySeal seal,
      String redisPrefix) {
    this(settings, local, redis, seal, redisPrefix, System::currentTimeMillis);
  }

  /**
   * @param clock epoch milliseconds: when an answer shared through Redis was cached
   */
  RouteAnswerCache(
      RouteConfig.ResponseCache settings,
      LocalAnswerCache local,
      RedisAnswerStore redis,
      RedisEntrySeal seal,
      String redisPrefix,
      LongSupplier clock) {
    if ((redis == null) != (seal == null)) {
      throw new IllegalArgumentException("Redis is used with the namespace's cache key only");
    }
    this.settings = settings;
    this.local = local;
    this.redis = redis;
    this.seal = seal;
    this.redisPrefix = redisPrefix;
    this.clock = clock;
  }

  /** Whether this route shares its answers through Redis. */
  boolean sharesThroughRedis() {
    return redis != null;
  }

  /** The cached answer while it is fresh, or null. Never completes exceptionally. */
  CompletableFuture<CachedAnswer> get(String key) {
    return get(key, false);
  }

  /**
   * The cached answer, fresh or kept past its ttl for serving stale (up to the route's {@code
   * serveStaleOnError.maxAge}), or null. Never completes exceptionally.
   */
  CompletableFuture<CachedAnswer> getStale(String key) {
    return get(key, true);
  }

  private CompletableFuture<CachedAnswer> get(String key, boolean stale) {
    CachedAnswer a = stale ? local.getStale(key) : local.get(key);
    if (a != null || redis == null) {
      return CompletableFuture.completedFuture(a);
    }
    byte[] redisKey = seal.redisKey(redisPrefix, key);
    return redis
        .get(redisKey)
        .thenApply(
            stored -> {
              // an entry not sealed with this namespace's key for this Redis key is a miss
              byte[] bytes = seal.open(redisKey, stored);
              CachedAnswer.Stored shared = bytes == null ? null : CachedAnswer.readStored(bytes);
              if (shared == null) {
                return null;
              }
              // an entry written without its time (an older sidecar) lived by the ttl alone
              long ageMillis =
                  shared.storedAtMillis() < 0
                      ? 0
                      : Math.max(0, clock.getAsLong() - shared.storedAtMillis());
              if (ageMillis > settings.retention().toMillis()) {
                return null;
              }
              local.put(key, shared.answer(), bytes.length, ageMillis * 1_000_000L);
              if (!stale && ageMillis > settings.ttl().toMillis()) {
                return null;
              }
              return shared.answer();
            });
  }

  void put(String key, CachedAnswer answer) {
    byte[] bytes = answer.toBytes(redis == null ? -1 : clock.getAsLong());
    local.put(key, answer, bytes.length);
    if (redis != null && bytes.length <= settings.maxSizeBytes()) {
      byte[] redisKey = seal.redisKey(redisPrefix, key);
      redis.set(redisKey, seal.seal(redisKey, bytes), settings.retention());
    }
  }
}
