package dev.tollgate.sidecar.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.concurrent.Executor;

/**
 * The in-process cache of one route: Caffeine with a time to live and a bound on entries and on
 * bytes.
 *
 * <p>Caffeine takes either a maximum size (entries) or a maximum weight, not both. Both bounds hold
 * here through one weight: an entry weighs its serialised bytes, but at least {@code w = maxBytes /
 * maxEntries} (rounded down, at least 1), and the maximum weight is {@code maxEntries * w} (at most
 * {@code maxBytes}). The weights sum to at most that, so the bytes stay within {@code maxBytes},
 * and since no entry weighs less than {@code w} there can be at most {@code maxEntries} of them.
 * The price: answers smaller than {@code w} count as {@code w} bytes, so many small answers reach
 * the entry bound before the byte bound, which is what the entry bound is for; and the byte bound
 * is rounded down by less than {@code maxEntries} bytes. An answer heavier than the cache is not
 * kept.
 */
public final class LocalAnswerCache {
  /** What the cache holds per key: the answer, its serialised size and when it was cached. */
  record Entry(CachedAnswer answer, int bytes, long storedAtNanos) {}

  private final Cache<String, Entry> cache;
  private final long maxBytes;
  private final long ttlNanos;
  private final Ticker ticker;

  /**
   * @param ticker the clock for expiry (a fake one in tests)
   * @param executor runs Caffeine's maintenance (the direct executor in tests, so eviction is
   *     visible at once)
   */
  LocalAnswerCache(Duration ttl, int maxEntries, long maxBytes, Ticker ticker, Executor executor) {
    this(ttl, ttl, maxEntries, maxBytes, ticker, executor);
  }

  /**
   * @param ttl how long an answer is fresh: {@link #get} replays it
   * @param retention how long an answer is kept (at least {@code ttl}): {@link #getStale} serves it
   *     until then
   */
  LocalAnswerCache(
      Duration ttl,
      Duration retention,
      int maxEntries,
      long maxBytes,
      Ticker ticker,
      Executor executor) {
    this.ttlNanos = ttl.toNanos();
    this.ticker = ticker;
    long w = Math.max(1, Math.min(Integer.MAX_VALUE, maxBytes / maxEntries));
    int minWeight = (int) w;
    this.maxBytes = Math.min(maxBytes, maxEntries * w);
    this.cache =
        Caffeine.newBuilder()
            .expireAfterWrite(retention.compareTo(ttl) > 0 ? retention : ttl)
            .maximumWeight(this.maxBytes)
            .<String, Entry>weigher((k, e) -> Math.max(e.bytes(), minWeight))
            .ticker(ticker)
            .executor(executor)
            .build();
  }

  LocalAnswerCache(Duration ttl, int maxEntries, long maxBytes) {
    this(ttl, maxEntries, maxBytes, Ticker.systemTicker(), Runnable::run);
  }

  /** The answer cached under {@code key} while it is fresh (within the ttl), or null. */
  CachedAnswer get(String key) {
    Entry e = cache.getIfPresent(key);
    return e == null || ticker.read() - e.storedAtNanos() > ttlNanos ? null : e.answer();
  }

  /** The answer cached under {@code key}, fresh or kept past its ttl, or null. */
  CachedAnswer getStale(String key) {
    Entry e = cache.getIfPresent(key);
    return e == null ? null : e.answer();
  }

  /** Keeps {@code answer} whose serialised form is {@code bytes} long, unless it is too big. */
  void put(String key, CachedAnswer answer, int bytes) {
    put(key, answer, bytes, 0);
  }

  /**
   * Keeps {@code answer}, cached {@code ageNanos} ago elsewhere (a copy from Redis), so it is fresh
   * and kept only as long as the original.
   */
  void put(String key, CachedAnswer answer, int bytes, long ageNanos) {
    if (bytes > maxBytes) {
      return;
    }
    cache.put(key, new Entry(answer, bytes, ticker.read() - Math.max(0, ageNanos)));
  }

  /** Entries held now (after pending evictions ran). */
  long entries() {
    cache.cleanUp();
    return cache.estimatedSize();
  }

  /** Serialised bytes of the answers held now. */
  long bytes() {
    cache.cleanUp();
    long sum = 0;
    for (Entry e : cache.asMap().values()) {
      sum += e.bytes();
    }
    return sum;
  }
}
