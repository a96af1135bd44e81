package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class PriceCatalogueTest {
  private final PriceCatalogue catalogue = PriceCatalogue.builtIn();

  private static CredentialConfig credential(List<ModelPrice> prices) {
    return CredentialConfig.builder("c", ProviderKind.ANTHROPIC)
        .apiKeyFile("/k")
        .prices(prices)
        .build();
  }

  private static ModelPrice price(String model, String input, String output) {
    return new ModelPrice(model, new BigDecimal(input), new BigDecimal(output), null, null);
  }

  @Test
  void theFileNamesItsDateAndEveryProvidersSourceAndCheckDate() {
    PriceFile file = PriceFile.builtIn();
    assertThat(file.date()).matches("\\d{4}-\\d{2}-\\d{2}");
    assertThat(file.providers())
        .extracting(PriceFile.Section::provider)
        .contains("openai", "anthropic", "gemini", "bedrock", "groq", "mistral", "cohere");
    for (PriceFile.Section s : file.providers()) {
      assertThat(s.source()).as(s.provider()).startsWith("https://");
      assertThat(s.checked()).as(s.provider()).matches("\\d{4}-\\d{2}-\\d{2}");
    }
    assertThat(file.problems()).isEmpty();
  }

  @Test
  void datedVariantsArePricedByTheirModelButSiblingsAreNot() {
    assertThat(catalogue.lookup("gpt-4o-mini-2024-07-18").orElseThrow().input())
        .isEqualByComparingTo("0.15");
    assertThat(catalogue.lookup("gpt-4o-2024-08-06").orElseThrow().input())
        .isEqualByComparingTo("2.50");
    // the first gpt-4o snapshot kept its launch price
    assertThat(catalogue.lookup("gpt-4o-2024-05-13").orElseThrow().input())
        .isEqualByComparingTo("5");
    assertThat(catalogue.lookup("gemini-1.5-flash-8b-001").orElseThrow().output())
        .isEqualByComparingTo("0.15");
    assertThat(catalogue.lookup("claude-3-5-sonnet-20241022").orElseThrow().cacheWrite())
        .isEqualByComparingTo("3.75");
    assertThat(catalogue.lookup("claude-3-5-sonnet-v2@20241022")).isPresent();
    assertThat(catalogue.lookup("claude-haiku-4-5-20251001").orElseThrow().input())
        .isEqualByComparingTo("1");
    assertThat(catalogue.lookup("mistral-large-2411").orElseThrow().input())
        .isEqualByComparingTo("2");
    assertThat(catalogue.lookup("command-r-plus-08-2024").orElseThrow().output())
        .isEqualByComparingTo("10");
    // a sibling that shares a prefix is another model with another price: not guessed
    assertThat(catalogue.lookup("gpt-4o-realtime-preview")).isEmpty();
    assertThat(catalogue.lookup("gpt-5.2")).isEmpty();
    assertThat(catalogue.lookup("claude-opus-4-9")).isEmpty();
    assertThat(catalogue.lookup("gemini-2.5-flash-image")).isEmpty();
  }

  @Test
  void vendorPrefixedCloudIdsArePricedLikeTheVendorsOwn() {
    assertThat(catalogue.lookup("anthropic.claude-3-haiku-20240307-v1:0").orElseThrow().input())
        .isEqualByComparingTo("0.25");
    assertThat(
            catalogue.lookup("us.anthropic.claude-3-5-sonnet-20241022-v2:0").orElseThrow().output())
        .isEqualByComparingTo("15.00");
    assertThat(catalogue.lookup("amazon.nova-pro-v1:0").orElseThrow().input())
        .isEqualByComparingTo("0.80");
    assertThat(catalogue.lookup("meta.llama3-1-70b-instruct-v1:0")).isEmpty();
  }

  @Test
  void cachedInputIsDiscountedForOpenAiAndGemini() {
    assertThat(catalogue.resolve(null, "gpt-4o").orElseThrow().base().cacheRead())
        .isEqualByComparingTo("1.25");
    assertThat(catalogue.resolve(null, "gpt-4o-mini").orElseThrow().base().cacheRead())
        .isEqualByComparingTo("0.075");
    assertThat(catalogue.resolve(null, "gemini-2.5-flash").orElseThrow().base().cacheRead())
        .isEqualByComparingTo("0.03");
  }

  @Test
  void longContextTierAppliesAboveItsThreshold() {
    Price p = catalogue.resolve(null, "gemini-2.5-pro").orElseThrow();
    assertThat(p.rates(200_000, false).input()).isEqualByComparingTo("1.25");
    assertThat(p.rates(200_001, false).input()).isEqualByComparingTo("2.50");
    assertThat(p.rates(200_001, false).output()).isEqualByComparingTo("15");
  }

  @Test
  void batchItemsGetTheProvidersDiscount() {
    ModelPrice batch =
        catalogue.resolve(null, "claude-3-5-haiku-20241022").orElseThrow().rates(10, true);
    assertThat(batch.input()).isEqualByComparingTo("0.40");
    assertThat(batch.output()).isEqualByComparingTo("2");
  }

  @Test
  void unknownModelHasNoPriceRatherThanZero() {
    assertThat(catalogue.resolve(credential(List.of()), "my-finetune")).isEmpty();
    assertThat(catalogue.resolve(null, "whisper-1")).isEmpty();
  }

  @Test
  void overrideWinsAndMissingCachePricesComeFromTheCatalogue() {
    ModelPrice resolved =
        catalogue
            .resolve(
                credential(List.of(price("claude-3-haiku-20240307", "0.20", "1.00"))),
                "claude-3-haiku-20240307")
            .orElseThrow()
            .base();

    assertThat(resolved.input()).isEqualByComparingTo("0.20");
    assertThat(resolved.output()).isEqualByComparingTo("1.00");
    assertThat(resolved.cacheRead()).isEqualByComparingTo("0.03");
    assertThat(resolved.cacheWrite()).isEqualByComparingTo("0.30");
  }

  @Test
  void overrideMatchesDatedIdsLikeTheCatalogue() {
    // #18 item 7: an override for gpt-4o was ignored for gpt-4o-2024-08-06
    CredentialConfig c =
        credential(List.of(price("gpt-4o", "1.00", "4.00"), price("gpt-4o-mini", "0.1", "0.4")));
    assertThat(catalogue.resolve(c, "gpt-4o-2024-08-06").orElseThrow().base().input())
        .isEqualByComparingTo("1.00");
    assertThat(catalogue.resolve(c, "gpt-4o-mini-2024-07-18").orElseThrow().base().input())
        .isEqualByComparingTo("0.1");
    // its cache price still comes from the catalogue entry of the same model
    assertThat(catalogue.resolve(c, "gpt-4o-2024-08-06").orElseThrow().base().cacheRead())
        .isEqualByComparingTo("1.25");
  }

  @Test
  void overrideKeepsTheLongContextRatioAndTheBatchDiscount() {
    Price p =
        catalogue
            .resolve(credential(List.of(price("gemini-2.5-pro", "1", "8"))), "gemini-2.5-pro")
            .orElseThrow();
    assertThat(p.rates(300_000, false).input()).isEqualByComparingTo("2");
    assertThat(p.rates(300_000, false).output()).isEqualByComparingTo("12");
    assertThat(p.rates(10, true).output()).isEqualByComparingTo("4");
  }

  @Test
  void cachePriceKnownNowhereIsTheInputPrice() {
    Price resolved = catalogue.resolve(credential(List.of()), "gpt-3.5-turbo").orElseThrow();
    assertThat(resolved.base().cacheRead()).isEqualByComparingTo("0.50");
  }

  @Test
  void aClusterFileReplacesAndAddsEntries() {
    PriceFile cluster =
        PriceFile.parse(
            """
            date: "2027-01-15"
            providers:
              - provider: openai
                source: https://example.com/our-contract
                checked: "2027-01-15"
                batchDiscountPercent: 50
                models:
                  - {model: gpt-4o, input: "2", output: "8", cacheRead: "1"}
                  - {model: ft:gpt-4o-mini:acme, input: "0.30", output: "1.20"}
            """,
            "ConfigMap tollgate/tollgate-prices");
    PriceCatalogue merged = catalogue.withOverrides(cluster);
    assertThat(merged.date()).isEqualTo("2027-01-15");
    assertThat(merged.lookup("gpt-4o-2024-08-06").orElseThrow().input()).isEqualByComparingTo("2");
    assertThat(merged.lookup("ft:gpt-4o-mini:acme").orElseThrow().output())
        .isEqualByComparingTo("1.20");
    assertThat(merged.lookup("claude-3-haiku-20240307")).isPresent();
    assertThat(catalogue.lookup("gpt-4o").orElseThrow().input()).isEqualByComparingTo("2.50");
  }

  @Test
  void aBrokenPriceFileIsRefusedWithWhatIsWrong() {
    assertThatThrownBy(
            () ->
                PriceFile.parse(
                    """
                    providers:
                      - provider: openai
                        models:
                          - {model: gpt-4o, input: "-1", output: "8"}
                          - {model: gpt-4o, input: "1"}
                    """,
                    "ConfigMap tollgate/tollgate-prices"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ConfigMap tollgate/tollgate-prices")
        .hasMessageContaining("negative price")
        .hasMessageContaining("listed twice")
        .hasMessageContaining("needs both input and output");
  }
}
