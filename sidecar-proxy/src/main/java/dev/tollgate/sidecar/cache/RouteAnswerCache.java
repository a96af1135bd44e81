package dev.tollgate.sidecar.cache;

import dev.tollgate.sidecar.config.RouteConfig;
import java.nio.charset.StandardCharsets;
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
  private final String redisPrefix;

  /**
   * @param redisPrefix names this namespace and route in Redis keys (a hash, so names never need
   *     escaping and a key never collides with another route's)
   */
  RouteAnswerCache(
      RouteConfig.ResponseCache settings,
      LocalAnswerCache local,
      RedisAnswerStore redis,
      String redisPrefix) {
    this.settings = settings;
    this.local = local;
    this.redis = redis;
    this.redisPrefix = redisPrefix;
  }

  /** The cached answer, or null. Never completes exceptionally. */
  CompletableFuture<CachedAnswer> get(String key) {
    CachedAnswer a = local.get(key);
    if (a != null || redis == null) {
      return CompletableFuture.completedFuture(a);
    }
    return redis
        .get(redisKey(key))
        .thenApply(
            bytes -> {
              CachedAnswer shared = CachedAnswer.fromBytes(bytes);
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
      redis.set(redisKey(key), bytes, settings.ttl());
    }
  }

  private byte[] redisKey(String key) {
    return (redisPrefix + key).getBytes(StandardCharsets.UTF_8);
  }
}
