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
  /** What the cache holds per key: the answer and its serialised size. */
  record Entry(CachedAnswer answer, int bytes) {}

  private final Cache<String, Entry> cache;
  private final long maxBytes;

  /**
   * @param ticker the clock for expiry (a fake one in tests)
   * @param executor runs Caffeine's maintenance (the direct executor in tests, so eviction is
   *     visible at once)
   */
  LocalAnswerCache(Duration ttl, int maxEntries, long maxBytes, Ticker ticker, Executor executor) {
    long w = Math.max(1, Math.min(Integer.MAX_VALUE, maxBytes / maxEntries));
    int minWeight = (int) w;
    this.maxBytes = Math.min(maxBytes, maxEntries * w);
    this.cache =
        Caffeine.newBuilder()
            .expireAfterWrite(ttl)
            .maximumWeight(this.maxBytes)
            .<String, Entry>weigher((k, e) -> Math.max(e.bytes(), minWeight))
            .ticker(ticker)
            .executor(executor)
            .build();
  }

  LocalAnswerCache(Duration ttl, int maxEntries, long maxBytes) {
    this(ttl, maxEntries, maxBytes, Ticker.systemTicker(), Runnable::run);
  }

  CachedAnswer get(String key) {
    Entry e = cache.getIfPresent(key);
    return e == null ? null : e.answer();
  }

  /** Keeps {@code answer} whose serialised form is {@code bytes} long, unless it is too big. */
  void put(String key, CachedAnswer answer, int bytes) {
    if (bytes > maxBytes) {
      return;
    }
    cache.put(key, new Entry(answer, bytes));
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
