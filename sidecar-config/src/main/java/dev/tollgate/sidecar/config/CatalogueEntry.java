package dev.tollgate.sidecar.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.math.BigDecimal;

/**
 * One model's list prices in the catalogue (US dollars per million tokens unless the field says
 * otherwise). Null prices are unknown: a missing cache price is charged as input, a model without
 * input and output prices is not priced for token calls.
 *
 * @param model the id it prices, with its dated variants (see {@link ModelIds})
 * @param provider the catalogue section it came from (openai, anthropic…)
 * @param longContext another price for every token of a call whose prompt is above a threshold
 * @param batchDiscountPercent what the provider's batch API takes off every price (null: no batch
 *     price known)
 * @param perMinute audio transcription, per minute of audio (listed, not metered yet)
 * @param perMillionCharacters speech synthesis, per million characters (listed, not metered yet)
 * @param perImage image generation, per standard image (listed, not metered yet)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CatalogueEntry(
    String model,
    String provider,
    BigDecimal input,
    BigDecimal output,
    BigDecimal cacheRead,
    BigDecimal cacheWrite,
    LongContext longContext,
    BigDecimal batchDiscountPercent,
    BigDecimal perMinute,
    BigDecimal perMillionCharacters,
    BigDecimal perImage) {

  /** Whether calls that report tokens can be priced: input and output prices are known. */
  @JsonIgnore
  public boolean pricesTokens() {
    return input != null && output != null;
  }

  /** The same entry with the provider's section-wide fields filled in. */
  CatalogueEntry inSection(String section, BigDecimal sectionBatchDiscount) {
    return new CatalogueEntry(
        model,
        section,
        input,
        output,
        cacheRead,
        cacheWrite,
        longContext,
        batchDiscountPercent != null ? batchDiscountPercent : sectionBatchDiscount,
        perMinute,
        perMillionCharacters,
        perImage);
  }

  /**
   * Prices for calls whose prompt (input, cache reads and writes) is above {@code above} tokens;
   * they apply to every token of such a call, output included, as Anthropic and Google bill it.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record LongContext(
      Long above,
      BigDecimal input,
      BigDecimal output,
      BigDecimal cacheRead,
      BigDecimal cacheWrite) {}
}
