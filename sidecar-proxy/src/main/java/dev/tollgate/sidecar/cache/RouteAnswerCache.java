package dev.tollgate.sidecar.cache;

import dev.tollgate.sidecar.config.RouteConfig;
import java.util.concurrent.CompletableFuture;

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
    if ((redis == null) != (seal == null)) {
      throw new IllegalArgumentException("Redis is used with the namespace's cache key only");
    }
    this.settings = settings;
    this.local = local;
    this.redis = redis;
    this.seal = seal;
    this.redisPrefix = redisPrefix;
  }

  /** Whether this route shares its answers through Redis. */
  boolean sharesThroughRedis() {
    return redis != null;
  }

  /** The cached answer, or null. Never completes exceptionally. */
  CompletableFuture<CachedAnswer> get(String key) {
    CachedAnswer a = local.get(key);
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
              CachedAnswer shared = bytes == null ? null : CachedAnswer.fromBytes(bytes);
              if (shared != null) {
                local.put(key, shared, bytes.length);
              }
              return shared;
            });
  }

  void put(String key, CachedAnswer answer) {
    byte[] bytes = answer.toBytes();
    local.put(key, answer, bytes.length);
    if (redis != null && bytes.length <= settings.maxSizeBytes()) {
      byte[] redisKey = seal.redisKey(redisPrefix, key);
      redis.set(redisKey, seal.seal(redisKey, bytes), settings.ttl());
    }
  }
}
