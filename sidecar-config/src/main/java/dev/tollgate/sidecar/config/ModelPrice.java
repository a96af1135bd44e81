package dev.tollgate.sidecar.config;

import java.math.BigDecimal;

/**
 * A model's price in US dollars per million tokens. {@code cacheRead} and {@code cacheWrite} may be
 * null in an override, meaning "as in the catalogue".
 *
 * @param model the provider's model id (an override) or id prefix (a catalogue entry)
 */
public record ModelPrice(
    String model,
    BigDecimal input,
    BigDecimal output,
    BigDecimal cacheRead,
    BigDecimal cacheWrite) {

  /**
   * The exact USD of these tokens at these (resolved, non-null) rates, plus {@code markupPercent}:
   * the one formula the sidecar's calls and the operator's batch results share.
   */
  public BigDecimal costUsd(
      long inputTokens,
      long outputTokens,
      long cacheReadTokens,
      long cacheWriteTokens,
      BigDecimal markupPercent) {
    BigDecimal usd =
        input
            .multiply(BigDecimal.valueOf(inputTokens))
            .add(output.multiply(BigDecimal.valueOf(outputTokens)))
            .add(cacheRead.multiply(BigDecimal.valueOf(cacheReadTokens)))
            .add(cacheWrite.multiply(BigDecimal.valueOf(cacheWriteTokens)));
    usd = dividedByPowerOfTen(usd, 6);
    if (markupPercent != null && markupPercent.signum() != 0) {
      usd = usd.add(dividedByPowerOfTen(usd.multiply(markupPercent), 2));
    }
    return usd;
  }

  /**
   * {@code v.divide(BigDecimal.TEN.pow(n))}, the same value and scale, without a division: moving
   * the decimal point is exact, and the quotient's scale is then trimmed to what {@link
   * BigDecimal#divide(BigDecimal)} returns (the smallest exact scale, but not below {@code
   * v.scale()}). The divide allocated most of what pricing a call did (issue #24's profile).
   */
  public static BigDecimal dividedByPowerOfTen(BigDecimal v, int n) {
    BigDecimal shifted = v.movePointLeft(n);
    if (shifted.scale() <= v.scale()) {
      return shifted;
    }
    BigDecimal r = shifted.stripTrailingZeros();
    return r.scale() < v.scale() ? r.setScale(v.scale()) : r;
  }
}
