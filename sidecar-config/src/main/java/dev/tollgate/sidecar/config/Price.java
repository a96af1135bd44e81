package dev.tollgate.sidecar.config;

import java.math.BigDecimal;

/**
 * The effective price of one model through one credential, before markup: what {@link
 * PriceCatalogue#resolve} returns. {@link #rates} picks the per-million prices that apply to one
 * call: the long-context tier when its prompt is above the threshold, the batch discount for a
 * batch item.
 *
 * @param base prices of an ordinary call (cache prices always filled)
 * @param longContext prices above {@code longContextAbove} prompt tokens (null: no such tier)
 * @param batchDiscountPercent the provider's batch discount (null: unknown; batch items are then
 *     charged the full price, which never under-charges)
 */
public record Price(
    ModelPrice base,
    Long longContextAbove,
    ModelPrice longContext,
    BigDecimal batchDiscountPercent) {
  private static final BigDecimal HUNDRED = BigDecimal.valueOf(100);

  /** The prices for a call with {@code promptTokens} of prompt (input + cache reads + writes). */
  public ModelPrice rates(long promptTokens, boolean batch) {
    ModelPrice p =
        longContext != null && longContextAbove != null && promptTokens > longContextAbove
            ? longContext
            : base;
    if (!batch || batchDiscountPercent == null || batchDiscountPercent.signum() == 0) {
      return p;
    }
    BigDecimal factor = HUNDRED.subtract(batchDiscountPercent).divide(HUNDRED);
    return new ModelPrice(
        p.model(),
        p.input().multiply(factor),
        p.output().multiply(factor),
        p.cacheRead().multiply(factor),
        p.cacheWrite().multiply(factor));
  }
}
