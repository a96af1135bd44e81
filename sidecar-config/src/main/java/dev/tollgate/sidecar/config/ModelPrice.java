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
  private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);
  private static final BigDecimal HUNDRED = BigDecimal.valueOf(100);

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
            .add(cacheWrite.multiply(BigDecimal.valueOf(cacheWriteTokens)))
            .divide(MILLION);
    if (markupPercent != null && markupPercent.signum() != 0) {
      usd = usd.add(usd.multiply(markupPercent).divide(HUNDRED));
    }
    return usd;
  }
}
