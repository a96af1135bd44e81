package dev.tollgate.sidecar.config.report;

import java.math.BigDecimal;
import java.util.regex.Pattern;

/**
 * The money format of the reporting channel and of anything a sidecar reads back from shared
 * storage: US dollars as a plain, non-negative decimal string ({@code "0.0125"}) with at most 12
 * integer digits, like the API's money fields, but with up to 18 decimals: costs are exact (a price
 * per million tokens with 6 decimals, divided by a million, times a markup percent with 4 decimals,
 * divided by a hundred), and the ledger keeps them exact. Checked before {@code new
 * BigDecimal(...)}: a value such as {@code "1E+100000"} would otherwise cost seconds of CPU in
 * every addition that follows it, and a negative one would undo spend.
 */
public final class Money {
  /** The format. */
  public static final Pattern FORMAT = Pattern.compile("[0-9]{1,12}(\\.[0-9]{1,18})?");

  /** The largest amount one value may carry (below 10^12 by the format). */
  public static final BigDecimal MAX = new BigDecimal("999999999999.999999999999999999");

  private Money() {}

  /** Whether {@code value} is in the money format. */
  public static boolean valid(String value) {
    return value != null && value.length() <= 31 && FORMAT.matcher(value).matches();
  }

  /**
   * {@code value} as a number.
   *
   * @throws IllegalArgumentException if it is not in the money format
   */
  public static BigDecimal parse(String value) {
    if (!valid(value)) {
      throw new IllegalArgumentException(
          "not a plain non-negative decimal with at most 12 digits and 18 decimals: "
              + quoted(value));
    }
    return new BigDecimal(value);
  }

  /** {@code value} quoted for an error message, cut short if long (it is untrusted input). */
  public static String quoted(String value) {
    if (value == null) {
      return "null";
    }
    String shown = value.length() > 40 ? value.substring(0, 40) + "…" : value;
    return '"' + shown.replaceAll("[^\\x20-\\x7e…]", "?") + '"';
  }
}
