package dev.tollgate.sidecar.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and prints durations in the CRDs' compact form ({@code 500ms}, {@code 30s}, {@code 1m30s},
 * {@code 2h}), so the rendered configuration reads like the resources it came from.
 */
public final class Durations {
  private static final Pattern WHOLE = Pattern.compile("^([0-9]+(ms|s|m|h))+$");
  private static final Pattern PART = Pattern.compile("([0-9]+)(ms|s|m|h)");

  private Durations() {}

  /**
   * Parses {@code 1m30s}-style text.
   *
   * @throws IllegalArgumentException naming the text when it is not a duration
   */
  public static Duration parse(String text) {
    if (text == null || !WHOLE.matcher(text.trim()).matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration; use e.g. 500ms, 30s, 1m30s or 2h");
    }
    Duration total = Duration.ZERO;
    Matcher m = PART.matcher(text.trim());
    while (m.find()) {
      long n = Long.parseLong(m.group(1));
      total =
          switch (m.group(2)) {
            case "ms" -> total.plusMillis(n);
            case "s" -> total.plusSeconds(n);
            case "m" -> total.plusMinutes(n);
            default -> total.plusHours(n);
          };
    }
    return total;
  }

  /** Prints a duration in canonical compact form, largest unit first; zero is {@code 0s}. */
  public static String format(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("negative duration " + d);
    }
    long ms = d.toMillis();
    if (ms == 0) {
      return "0s";
    }
    StringBuilder sb = new StringBuilder();
    long h = ms / 3_600_000;
    ms %= 3_600_000;
    long m = ms / 60_000;
    ms %= 60_000;
    long s = ms / 1000;
    ms %= 1000;
    if (h > 0) {
      sb.append(h).append('h');
    }
    if (m > 0) {
      sb.append(m).append('m');
    }
    if (s > 0) {
      sb.append(s).append('s');
    }
    if (ms > 0) {
      sb.append(ms).append("ms");
    }
    return sb.toString();
  }
}
