package dev.tollgate.sidecar.routing;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Waits between attempts: {@code min(cap, base * 2^n) + jitter} with jitter uniform in [0, base),
 * or what the provider asked for in {@code Retry-After} and its rate-limit reset headers.
 */
public final class Backoff {
  private static final Pattern GO_DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|h|m|s)");

  private Backoff() {}

  /** Delay before retry number {@code n} (0 for the first retry). */
  public static Duration delay(int n, Duration base, Duration cap) {
    long b = Math.max(1, base.toMillis());
    long exp = n >= 30 ? Long.MAX_VALUE : b << n;
    long d = Math.min(cap.toMillis(), exp < 0 ? Long.MAX_VALUE : exp);
    return Duration.ofMillis(d + ThreadLocalRandom.current().nextLong(b));
  }

  /**
   * How long the provider asked to wait, or null when it did not say: {@code retry-after-ms},
   * {@code Retry-After} (seconds), OpenAI's {@code x-ratelimit-reset-requests}/{@code -tokens}
   * ("1s", "6m0s", "20ms") and Anthropic's {@code anthropic-ratelimit-*-reset} (RFC 3339 time).
   */
  public static Duration providerWait(Function<String, String> header, Instant now) {
    String ms = header.apply("retry-after-ms");
    if (ms != null) {
      try {
        return Duration.ofMillis((long) Double.parseDouble(ms.trim()));
      } catch (NumberFormatException ignored) {
        // fall through to the other headers
      }
    }
    String ra = header.apply("retry-after");
    if (ra != null) {
      try {
        return Duration.ofSeconds(Long.parseLong(ra.trim()));
      } catch (NumberFormatException ignored) {
        // an HTTP date is rare from LLM providers; the reset headers below are tried instead
      }
    }
    Duration longest = null;
    for (String h : new String[] {"x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"}) {
      Duration d = goDuration(header.apply(h));
      longest = max(longest, d);
    }
    for (String h :
        new String[] {
          "anthropic-ratelimit-requests-reset",
          "anthropic-ratelimit-tokens-reset",
          "anthropic-ratelimit-input-tokens-reset",
          "anthropic-ratelimit-output-tokens-reset"
        }) {
      String v = header.apply(h);
      if (v != null) {
        try {
          Duration d = Duration.between(now, OffsetDateTime.parse(v.trim()).toInstant());
          longest = max(longest, d.isNegative() ? Duration.ZERO : d);
        } catch (DateTimeParseException ignored) {
          // not a time: ignore this header
        }
      }
    }
    return longest;
  }

  static Duration goDuration(String v) {
    if (v == null || v.isBlank()) {
      return null;
    }
    Matcher m = GO_DURATION.matcher(v.trim());
    double millis = 0;
    boolean any = false;
    while (m.find()) {
      any = true;
      double n = Double.parseDouble(m.group(1));
      millis +=
          switch (m.group(2)) {
            case "h" -> n * 3_600_000;
            case "m" -> n * 60_000;
            case "s" -> n * 1000;
            default -> n;
          };
    }
    return any ? Duration.ofMillis((long) Math.ceil(millis)) : null;
  }

  private static Duration max(Duration a, Duration b) {
    if (a == null) {
      return b;
    }
    return b == null || a.compareTo(b) >= 0 ? a : b;
  }
}
