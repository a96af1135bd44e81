package dev.tollgate.sidecar.metering;

import java.math.BigDecimal;

/**
 * The price of one call in US dollars, exact (no rounding: token counts times decimal prices), or
 * unpriced when neither the credential nor the catalogue knows the model.
 */
public record Cost(BigDecimal usd, boolean priced) {
  public static final Cost UNPRICED = new Cost(BigDecimal.ZERO, false);

  /** Whole micro-dollars, rounded half-up (for displays; the ledger keeps the exact value). */
  public long microDollars() {
    return usd.movePointRight(6).setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
  }

  public String usdText() {
    return priced ? usd.stripTrailingZeros().toPlainString() : null;
  }
}
