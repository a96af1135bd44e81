package dev.tollgate.sidecar.metering;

import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ModelPrice;
import dev.tollgate.sidecar.config.Price;
import dev.tollgate.sidecar.config.PriceCatalogue;
import java.math.BigDecimal;
import java.util.Optional;

/**
 * Prices a call: tokens of each kind times the price per million tokens that applies to it (the
 * long-context tier above its threshold, the batch discount for a batch item), plus the
 * credential's markup. Exact decimal arithmetic; never a double.
 */
public final class CostCalculator {
  private final PriceCatalogue catalogue;

  public CostCalculator(PriceCatalogue catalogue) {
    this.catalogue = catalogue;
  }

  public PriceCatalogue catalogue() {
    return catalogue;
  }

  /** An ordinary (synchronous) call. */
  public Cost cost(CredentialConfig credential, String model, Usage usage) {
    return cost(credential, model, usage, false);
  }

  /** A call, or with {@code batch} one item of a provider batch, priced at the batch discount. */
  public Cost cost(CredentialConfig credential, String model, Usage usage, boolean batch) {
    Optional<Price> price = catalogue.resolve(credential, model);
    if (price.isEmpty()) {
      return Cost.UNPRICED;
    }
    ModelPrice p = price.get().rates(usage.promptTokens(), batch);
    BigDecimal usd =
        p.costUsd(
            usage.inputTokens(),
            usage.outputTokens(),
            usage.cacheReadTokens(),
            usage.cacheWriteTokens(),
            credential == null ? BigDecimal.ZERO : credential.markupPercent());
    return new Cost(usd, true);
  }
}
