package dev.tollgate.operator.report;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Remembers TokenReview answers by the token's SHA-256 (never the token itself), so a sidecar
 * reporting every 2 s costs one review a minute and a flood of one bad token costs one review per
 * {@code negativeTtl}. Concurrent requests with the same token wait for one review. Bounded: the
 * least recently used answers go first. An accepted token stays accepted for at most {@code
 * positiveTtl} after its review, so a deleted pod's token (which the API server stops accepting)
 * still reports for up to that long; its reports are still bound to its pod.
 */
public final class CachingTokenReviewer implements TokenReviewer {
  /** Answers kept at most; about 200 bytes each. */
  public static final int MAX_ENTRIES = 50_000;

  private final TokenReviewer delegate;
  private final Cache<String, Optional<Identity>> answers;

  public CachingTokenReviewer(TokenReviewer delegate) {
    this(delegate, Duration.ofSeconds(60), Duration.ofSeconds(10), Ticker.systemTicker());
  }

  CachingTokenReviewer(
      TokenReviewer delegate, Duration positiveTtl, Duration negativeTtl, Ticker ticker) {
    this.delegate = delegate;
    this.answers =
        Caffeine.newBuilder()
            .maximumSize(MAX_ENTRIES)
            .ticker(ticker)
            .expireAfter(
                new Expiry<String, Optional<Identity>>() {
                  @Override
                  public long expireAfterCreate(
                      String key, Optional<Identity> value, long currentTime) {
                    return (value.isPresent() ? positiveTtl : negativeTtl).toNanos();
                  }

                  @Override
                  public long expireAfterUpdate(
                      String key, Optional<Identity> value, long currentTime, long duration) {
                    return expireAfterCreate(key, value, currentTime);
                  }

                  @Override
                  public long expireAfterRead(
                      String key, Optional<Identity> value, long currentTime, long duration) {
                    return duration;
                  }
                })
            .build();
  }

  @Override
  public Optional<Identity> review(String token) {
    if (token == null || token.isEmpty()) {
      return Optional.empty();
    }
    return answers.get(sha256(token), k -> delegate.review(token));
  }

  static String sha256(String token) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
