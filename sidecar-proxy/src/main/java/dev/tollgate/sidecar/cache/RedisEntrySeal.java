package dev.tollgate.sidecar.cache;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Names and seals a namespace's entries in a shared Redis with its cache key (the Secret {@code
 * tollgate-cache-key}). The Redis key is an HMAC of the request's cache key, so another tenant
 * cannot compute where this namespace's answer to a request lives; the value carries an HMAC over
 * the Redis key and the answer, so an entry written by anyone without the key (or copied from
 * another key) reads as a miss.
 */
final class RedisEntrySeal {
  private static final String ALGORITHM = "HmacSHA256";
  static final int TAG_BYTES = 32;

  private final SecretKeySpec key;

  RedisEntrySeal(byte[] key) {
    this.key = new SecretKeySpec(key, ALGORITHM);
  }

  /** The Redis key of the entry for {@code cacheKey}, after the route's prefix. */
  byte[] redisKey(String prefix, String cacheKey) {
    return (prefix + HexFormat.of().formatHex(mac("name\n" + cacheKey)))
        .getBytes(StandardCharsets.UTF_8);
  }

  /** The tag followed by {@code answer}. */
  byte[] seal(byte[] redisKey, byte[] answer) {
    byte[] tag = tag(redisKey, answer, answer.length);
    byte[] out = Arrays.copyOf(tag, TAG_BYTES + answer.length);
    System.arraycopy(answer, 0, out, TAG_BYTES, answer.length);
    return out;
  }

  /** The answer, or null when {@code stored} was not sealed under this key for this Redis key. */
  byte[] open(byte[] redisKey, byte[] stored) {
    if (stored == null || stored.length < TAG_BYTES) {
      return null;
    }
    byte[] answer = Arrays.copyOfRange(stored, TAG_BYTES, stored.length);
    byte[] expected = tag(redisKey, answer, answer.length);
    return MessageDigest.isEqual(expected, Arrays.copyOf(stored, TAG_BYTES)) ? answer : null;
  }

  private byte[] tag(byte[] redisKey, byte[] answer, int length) {
    Mac mac = newMac();
    mac.update("value\n".getBytes(StandardCharsets.UTF_8));
    // the key's length first, so (key, answer) pairs can never be re-split
    mac.update(Integer.toString(redisKey.length).getBytes(StandardCharsets.UTF_8));
    mac.update((byte) '\n');
    mac.update(redisKey);
    mac.update(answer, 0, length);
    return mac.doFinal();
  }

  private byte[] mac(String text) {
    return newMac().doFinal(text.getBytes(StandardCharsets.UTF_8));
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has HmacSHA256", e);
    }
  }
}
