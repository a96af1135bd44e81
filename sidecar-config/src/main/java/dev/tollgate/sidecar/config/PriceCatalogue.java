package dev.tollgate.sidecar.config;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The prices Tollgate knows, and the rule that combines them with a credential's overrides. The
 * built-in prices are the dated, sourced data file {@code prices.yaml} beside this class ({@link
 * PriceFile}); a cluster's own price file may replace or add entries ({@link #withOverrides}). The
 * operator uses the catalogue to flag unpriced models in status; the sidecar to price every call.
 *
 * <p>Entries and overrides match model ids the same way ({@link ModelIds}): the id itself or its
 * dated variants, the longest entry winning, so {@code gpt-4o-mini} is never priced as {@code
 * gpt-4o}.
 */
public final class PriceCatalogue {
  private static final PriceCatalogue BUILT_IN = new PriceCatalogue(PriceFile.builtIn());

  private final List<CatalogueEntry> entries;
  private final String date;

  private PriceCatalogue(PriceFile file) {
    this(file.entries(), file.date());
  }

  private PriceCatalogue(List<CatalogueEntry> entries, String date) {
    this.entries = List.copyOf(entries);
    this.date = date;
  }

  /** The catalogue of the price file shipped in this release. */
  public static PriceCatalogue builtIn() {
    return BUILT_IN;
  }

  /** A catalogue of the given token prices (tests). */
  public static PriceCatalogue of(List<ModelPrice> prices) {
    return new PriceCatalogue(
        prices.stream()
            .map(
                p ->
                    new CatalogueEntry(
                        p.model(),
                        null,
                        p.input(),
                        p.output(),
                        p.cacheRead(),
                        p.cacheWrite(),
                        null,
                        null,
                        null,
                        null,
                        null))
            .toList(),
        null);
  }

  /**
   * This catalogue with {@code file}'s entries in place of those of the same model id, and its
   * other entries added: a platform team's prices win over the release's.
   */
  public PriceCatalogue withOverrides(PriceFile file) {
    if (file == null || file.providers().isEmpty()) {
      return this;
    }
    Map<String, CatalogueEntry> merged = new LinkedHashMap<>();
    entries.forEach(e -> merged.put(e.model(), e));
    file.entries().forEach(e -> merged.put(e.model(), e));
    return new PriceCatalogue(
        List.copyOf(merged.values()), file.date() != null ? file.date() : date);
  }

  public List<CatalogueEntry> entries() {
    return entries;
  }

  /** The date of the prices (the newest file merged in). */
  public String date() {
    return date;
  }

  /** The catalogue entry that prices {@code model}, by the rule of {@link ModelIds}. */
  public Optional<CatalogueEntry> lookup(String model) {
    return ModelIds.best(entries, CatalogueEntry::model, model);
  }

  /** Whether token calls to {@code model} through {@code credential} have a price. */
  public boolean isPriced(CredentialConfig credential, String model) {
    return resolve(credential, model).isPresent();
  }

  /**
   * The effective price of {@code model} through {@code credential}, before markup: the
   * credential's override (matched like the catalogue), its missing cache prices filled from the
   * catalogue; else the catalogue. A cache price known nowhere is the input price, which never
   * under-charges. An override keeps the catalogue's long-context tier as a ratio of its own
   * prices, and the provider's batch discount. Empty when the model has no price at all: callers
   * must flag that, not price it as zero.
   */
  public Optional<Price> resolve(CredentialConfig credential, String model) {
    Optional<CatalogueEntry> catalogue = lookup(model).filter(CatalogueEntry::pricesTokens);
    Optional<ModelPrice> override = credential == null ? Optional.empty() : credential.price(model);
    if (override.isPresent()
        && (override.get().input() == null || override.get().output() == null)) {
      override = Optional.empty();
    }
    if (override.isEmpty() && catalogue.isEmpty()) {
      return Optional.empty();
    }
    CatalogueEntry cat = catalogue.orElse(null);
    ModelPrice base;
    if (override.isPresent()) {
      ModelPrice o = override.get();
      base =
          new ModelPrice(
              model,
              o.input(),
              o.output(),
              firstNonNull(o.cacheRead(), cat == null ? null : cat.cacheRead(), o.input()),
              firstNonNull(o.cacheWrite(), cat == null ? null : cat.cacheWrite(), o.input()));
    } else {
      base =
          new ModelPrice(
              model,
              cat.input(),
              cat.output(),
              firstNonNull(cat.cacheRead(), cat.input(), null),
              firstNonNull(cat.cacheWrite(), cat.input(), null));
    }
    Long above = null;
    ModelPrice longContext = null;
    if (cat != null && cat.longContext() != null) {
      CatalogueEntry.LongContext lc = cat.longContext();
      above = lc.above();
      if (override.isEmpty()) {
        longContext =
            new ModelPrice(
                model,
                lc.input(),
                lc.output(),
                firstNonNull(lc.cacheRead(), lc.input(), null),
                firstNonNull(lc.cacheWrite(), lc.input(), null));
      } else {
        // the override's prices, raised by the catalogue's long-context ratios
        ModelPrice catBase =
            new ModelPrice(
                model,
                cat.input(),
                cat.output(),
                firstNonNull(cat.cacheRead(), cat.input(), null),
                firstNonNull(cat.cacheWrite(), cat.input(), null));
        longContext =
            new ModelPrice(
                model,
                scale(base.input(), lc.input(), catBase.input()),
                scale(base.output(), lc.output(), catBase.output()),
                scale(
                    base.cacheRead(),
                    firstNonNull(lc.cacheRead(), lc.input(), null),
                    catBase.cacheRead()),
                scale(
                    base.cacheWrite(),
                    firstNonNull(lc.cacheWrite(), lc.input(), null),
                    catBase.cacheWrite()));
      }
    }
    BigDecimal batch = cat == null ? null : cat.batchDiscountPercent();
    return Optional.of(new Price(base, above, longContext, batch));
  }

  private static BigDecimal scale(BigDecimal value, BigDecimal high, BigDecimal low) {
    if (low == null || low.signum() == 0 || high == null) {
      return value;
    }
    return value.multiply(high).divide(low, MathContext.DECIMAL64).stripTrailingZeros();
  }

  private static BigDecimal firstNonNull(BigDecimal a, BigDecimal b, BigDecimal c) {
    return a != null ? a : b != null ? b : c;
  }
}
