package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class PriceCatalogueTest {
  private final PriceCatalogue catalogue = PriceCatalogue.builtIn();

  private static CredentialConfig credential(List<ModelPrice> prices) {
    return new CredentialConfig(
        "c", ProviderKind.ANTHROPIC, null, "/k", null, null, null, null, prices, null, null);
  }

  @Test
  void longestPrefixWins() {
    assertThat(catalogue.lookup("gpt-4o-mini-2024-07-18").orElseThrow().input())
        .isEqualByComparingTo("0.15");
    assertThat(catalogue.lookup("gpt-4o-2024-08-06").orElseThrow().input())
        .isEqualByComparingTo("5.00");
    assertThat(catalogue.lookup("gemini-1.5-flash-8b-001").orElseThrow().output())
        .isEqualByComparingTo("0.15");
    assertThat(catalogue.lookup("claude-3-5-sonnet-20241022").orElseThrow().cacheWrite())
        .isEqualByComparingTo("3.75");
    assertThat(catalogue.lookup("llama-3.1-70b-versatile").orElseThrow().output())
        .isEqualByComparingTo("0.79");
  }

  @Test
  void vendorPrefixedCloudIdsArePricedLikeTheVendorsOwn() {
    assertThat(catalogue.lookup("anthropic.claude-3-haiku-20240307-v1:0").orElseThrow().input())
        .isEqualByComparingTo("0.25");
    assertThat(
            catalogue.lookup("us.anthropic.claude-3-5-sonnet-20241022-v2:0").orElseThrow().output())
        .isEqualByComparingTo("15.00");
    assertThat(catalogue.lookup("meta.llama3-1-70b-instruct-v1:0")).isEmpty();
  }

  @Test
  void unknownModelHasNoPriceRatherThanZero() {
    assertThat(catalogue.resolve(credential(List.of()), "my-finetune")).isEmpty();
  }

  @Test
  void overrideWinsAndMissingCachePricesComeFromTheCatalogue() {
    ModelPrice override =
        new ModelPrice(
            "claude-3-haiku-20240307", new BigDecimal("0.20"), new BigDecimal("1.00"), null, null);
    ModelPrice resolved =
        catalogue.resolve(credential(List.of(override)), "claude-3-haiku-20240307").orElseThrow();

    assertThat(resolved.input()).isEqualByComparingTo("0.20");
    assertThat(resolved.output()).isEqualByComparingTo("1.00");
    assertThat(resolved.cacheRead()).isEqualByComparingTo("0.03");
    assertThat(resolved.cacheWrite()).isEqualByComparingTo("0.30");
  }

  @Test
  void cachePriceKnownNowhereIsTheInputPrice() {
    ModelPrice resolved = catalogue.resolve(credential(List.of()), "gpt-4o-mini").orElseThrow();
    assertThat(resolved.cacheRead()).isEqualByComparingTo("0.15");
  }
}
