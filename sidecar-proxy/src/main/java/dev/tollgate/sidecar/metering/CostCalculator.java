package dev.tollgate.sidecar.metering;

import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ModelPrice;
import dev.tollgate.sidecar.config.Price;
import dev.tollgate.sidecar.config.PriceCatalogue;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Prices a call: tokens of each kind times the price per million tokens that applies to it (the
 * long-context tier above its threshold, the batch discount for a batch item), plus the
 * credential's markup. Exact decimal arithmetic; never a double.
 */
public final class CostCalculator {
  /**
   * Most credential and model pairs whose resolved price is kept; past it the cache starts over.
   */
  static final int MAX_RESOLVED = 1024;

  private final PriceCatalogue catalogue;

  /**
   * The price resolved per credential (by identity: a configuration reload brings new ones) and
   * model: resolving scans the catalogue and matches version suffixes with a regular expression,
   * the same answer for every call (issue #24).
   */
  private final Map<Resolved, Optional<Price>> resolved = new ConcurrentHashMap<>();

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
    Optional<Price> price = resolve(credential, model);
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

  private Optional<Price> resolve(CredentialConfig credential, String model) {
    Resolved key = new Resolved(credential, model);
    Optional<Price> p = resolved.get(key);
    if (p == null) {
      p = catalogue.resolve(credential, model);
      if (resolved.size() >= MAX_RESOLVED) {
        resolved.clear();
      }
      resolved.put(key, p);
    }
    return p;
  }

  /** A credential by identity, and a model id. */
  private record Resolved(CredentialConfig credential, String model) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Resolved r
          && r.credential == credential
          && Objects.equals(r.model, model);
    }

    @Override
    public int hashCode() {
      return 31 * System.identityHashCode(credential) + Objects.hashCode(model);
    }
  }
}
