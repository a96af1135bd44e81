package dev.tollgate.sidecar.routing;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.tollgate.sidecar.config.RouteConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Classifier answers cached by request hash, so that the same question is classified (and paid for)
 * once per route's {@code cacheTtl}. Keys are SHA-256 hashes: no prompt text is kept.
 */
public final class ClassifierLabels {
  /** A cached label and when it expires ({@link System#nanoTime()} clock). */
  public record Entry(String label, long expiresAtNanos) {}

  private final Cache<String, Entry> cache =
      Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(Duration.ofHours(24)).build();

  /** The hash of what the classifier sees: route, prompt, labels and the caller's last message. */
  public static String key(String route, RouteConfig.Classifier c, String text) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (String part :
          new String[] {route, String.valueOf(c.prompt()), String.join(",", c.labels()), text}) {
        d.update(part.getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
      }
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** The live entry for {@code key}, or null. */
  public Entry get(String key) {
    Entry e = cache.getIfPresent(key);
    if (e != null && e.expiresAtNanos() - System.nanoTime() <= 0) {
      cache.invalidate(key);
      return null;
    }
    return e;
  }

  public void put(String key, String label, Duration ttl) {
    cache.put(key, new Entry(label, System.nanoTime() + ttl.toNanos()));
  }
}
