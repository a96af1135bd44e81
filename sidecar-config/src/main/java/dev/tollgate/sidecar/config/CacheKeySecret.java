package dev.tollgate.sidecar.config;

/**
 * The per-namespace Secret that keys the shared Redis response cache. The operator creates it once
 * in each namespace whose routes cache in Redis (a random 32-byte key, never rotated silently), the
 * webhook mounts it beside the other Secrets the configuration names, and the sidecar names and
 * seals its Redis entries with an HMAC under it, so a tenant sharing the Redis cannot compute this
 * namespace's keys or forge its entries. One convention, defined once.
 */
public final class CacheKeySecret {
  /** The Secret's name in the tenant's namespace. */
  public static final String NAME = "tollgate-cache-key";

  /** The Secret's data key holding the raw key bytes. */
  public static final String KEY = "key";

  /** The shortest key the sidecar accepts, in bytes. */
  public static final int MIN_BYTES = 32;

  private CacheKeySecret() {}

  /** Where the sidecar finds the key. */
  public static String file() {
    return SecretMounts.keyFile(NAME, KEY);
  }
}
