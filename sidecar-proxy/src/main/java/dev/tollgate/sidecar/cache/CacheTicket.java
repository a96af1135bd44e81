package dev.tollgate.sidecar.cache;

import java.util.concurrent.CompletableFuture;

/**
 * What the response cache does for one request: whether it may read and whether it may store, under
 * which key, and the {@code x-tollgate-cache} value to answer with ({@code hit}, {@code miss},
 * {@code bypass}, or {@code stale} for an answer kept past its ttl and served because every target
 * failed).
 */
public final class CacheTicket {
  private final ResponseCaches caches;
  private final RouteAnswerCache cache;
  private final String route;
  private final String key;
  private final boolean read;
  private final boolean store;
  private volatile String result;

  CacheTicket(
      ResponseCaches caches,
      RouteAnswerCache cache,
      String route,
      String key,
      boolean read,
      boolean store) {
    this.caches = caches;
    this.cache = cache;
    this.route = route;
    this.key = key;
    this.read = read;
    this.store = store;
    this.result = read ? "miss" : "bypass";
  }

  /** The value of the {@code x-tollgate-cache} response header. */
  public String header() {
    return result;
  }

  public boolean mayRead() {
    return read;
  }

  /** Whether a successful answer to this request is to be cached. */
  public boolean mayStore() {
    return store;
  }

  /** The key (a SHA-256 hex string; tests and debugging). */
  public String key() {
    return key;
  }

  /**
   * The cached answer, or null on a miss (or when the ticket may not read). Completes on a Lettuce
   * or timer thread when Redis is asked; never exceptionally.
   */
  public CompletableFuture<CachedAnswer> lookup() {
    if (!read) {
      return CompletableFuture.completedFuture(null);
    }
    return cache
        .get(key)
        .thenApply(
            a -> {
              result = a == null ? "miss" : "hit";
              caches.counted(route, result);
              return a;
            });
  }

  /**
   * Whether this request may be answered from a stale entry when every target failed: the route
   * asks for it and the request reads the cache (never for a request that bypasses it).
   */
  public boolean mayServeStale() {
    return read && cache.settings.serveStaleOnError().enabled();
  }

  /**
   * The cached answer, fresh or kept past its ttl, or null; counted as {@code stale} when found.
   * Completes like {@link #lookup()}.
   */
  public CompletableFuture<CachedAnswer> lookupStale() {
    if (!mayServeStale()) {
      return CompletableFuture.completedFuture(null);
    }
    return cache
        .getStale(key)
        .thenApply(
            a -> {
              if (a != null) {
                result = "stale";
                caches.counted(route, result);
              }
              return a;
            });
  }

  /** Caches {@code answer} if this ticket may store and the answer is worth keeping. */
  public void store(CachedAnswer answer) {
    if (store && CachedAnswer.cacheable(answer.response())) {
      cache.put(key, answer);
    }
  }
}
