package dev.tollgate.sidecar.metering;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ModelPrice;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.ProviderKind;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CostCalculatorTest {
  private final CostCalculator calc = new CostCalculator(PriceCatalogue.builtIn());

  private static CredentialConfig credential(String markup, List<ModelPrice> prices) {
    return CredentialConfig.builder("c", ProviderKind.ANTHROPIC)
        .apiKeyFile("/k")
        .prices(prices)
        .markupPercent(markup == null ? null : new BigDecimal(markup))
        .build();
  }

  @Test
  void seedExampleWithPromptCachingIsExact() {
    // the seed's Sonnet example: 1,000 new input + 9,000 cached input + 1,000 output tokens
    // = $0.003 + $0.0027 + $0.015
    Cost cost =
        calc.cost(
            credential(null, List.of()),
            "claude-3-5-sonnet-20241022",
            new Usage(1000, 1000, 9000, 0));
    assertThat(cost.priced()).isTrue();
    assertThat(cost.usd()).isEqualByComparingTo("0.0207");
    assertThat(cost.microDollars()).isEqualTo(20_700);
  }

  @Test
  void aReloadedCredentialIsPricedByItsNewOverrideNotTheRememberedPrice() {
    Usage usage = new Usage(1_000_000, 0, 0, 0);
    CredentialConfig before =
        credential(
            null, List.of(new ModelPrice("my-model", BigDecimal.ONE, BigDecimal.ONE, null, null)));
    assertThat(calc.cost(before, "my-model", usage).usd()).isEqualByComparingTo("1");
    assertThat(calc.cost(before, "my-model", usage).usd()).isEqualByComparingTo("1");
    CredentialConfig reloaded =
        credential(
            null,
            List.of(new ModelPrice("my-model", new BigDecimal("2"), BigDecimal.ONE, null, null)));
    assertThat(calc.cost(reloaded, "my-model", usage).usd()).isEqualByComparingTo("2");
    assertThat(calc.cost(before, "other-model", usage).priced()).isFalse();
  }

  @Test
  void cacheWritesUseTheirOwnPrice() {
    // Haiku: 350 in * 0.25 + 120 out * 1.25 + 800 read * 0.03 + 200 write * 0.30 per million
    Cost cost =
        calc.cost(
            credential(null, List.of()), "claude-3-haiku-20240307", new Usage(350, 120, 800, 200));
    assertThat(cost.usd()).isEqualByComparingTo("0.0003215");
  }

  @Test
  void tinyCallsKeepSubMicroDollarPrecision() {
    // Gemini Flash-8B: 7 input tokens at $0.0375/M = $0.0000002625
    Cost cost =
        calc.cost(credential(null, List.of()), "gemini-1.5-flash-8b", new Usage(7, 0, 0, 0));
    assertThat(cost.usd()).isEqualByComparingTo("0.0000002625");
    assertThat(cost.usdText()).isEqualTo("0.0000002625");
  }

  @Test
  void overrideAndMarkupApply() {
    ModelPrice override =
        new ModelPrice("gpt-4o", new BigDecimal("2.50"), new BigDecimal("10.00"), null, null);
    Cost cost =
        calc.cost(
            credential("10", List.of(override)), "gpt-4o", new Usage(1_000_000, 100_000, 0, 0));
    // (2.50 + 1.00) * 1.10
    assertThat(cost.usd()).isEqualByComparingTo("3.85");
  }

  @Test
  void aLongPromptIsPricedAtTheLongContextTierOnEveryToken() {
    // Sonnet 4.5 above 200K prompt tokens: $6 input and $22.50 output per million
    // 250,000 × 6 + 1,000 × 22.50 = 1,522,500 $/M
    Cost cost =
        calc.cost(
            credential(null, List.of()),
            "claude-sonnet-4-5-20250929",
            new Usage(250_000, 1000, 0, 0));
    assertThat(cost.usd()).isEqualByComparingTo("1.5225");
    // at the threshold, the ordinary price: 200,000 × 3 + 1,000 × 15
    assertThat(
            calc.cost(
                    credential(null, List.of()),
                    "claude-sonnet-4-5-20250929",
                    new Usage(199_000, 1000, 1000, 0))
                .usd())
        .isEqualByComparingTo("0.6123");
  }

  @Test
  void aBatchItemIsPricedAtTheBatchDiscount() {
    // Haiku 3.5 in a batch: $0.40 input and $2 output per million (half the list price)
    Cost cost =
        calc.cost(
            credential(null, List.of()),
            "claude-3-5-haiku-20241022",
            new Usage(1000, 1000, 0, 0),
            true);
    assertThat(cost.usd()).isEqualByComparingTo("0.0024");
  }

  @Test
  void anOverrideForAModelPricesItsDatedIds() {
    // #18: an override for gpt-4o was ignored for gpt-4o-2024-08-06
    ModelPrice override =
        new ModelPrice("gpt-4o", new BigDecimal("1.00"), new BigDecimal("4.00"), null, null);
    Cost cost =
        calc.cost(
            credential(null, List.of(override)),
            "gpt-4o-2024-08-06",
            new Usage(1_000_000, 0, 0, 0));
    assertThat(cost.usd()).isEqualByComparingTo("1.00");
  }

  @Test
  void unknownModelIsUnpricedNotZero() {
    Cost cost = calc.cost(credential(null, List.of()), "my-finetune", new Usage(10, 10, 0, 0));
    assertThat(cost.priced()).isFalse();
    assertThat(cost.usdText()).isNull();
  }

  @Test
  void shiftingThePointGivesTheSameValueAndScaleAsTheDivideItReplaces() {
    Random random = new Random(24);
    List<BigDecimal> values =
        new java.util.ArrayList<>(
            List.of(
                BigDecimal.ZERO,
                new BigDecimal("0.00"),
                new BigDecimal("150"),
                new BigDecimal("2000000.00"),
                new BigDecimal("3000000"),
                new BigDecimal("1E+7"),
                new BigDecimal("-12.5"),
                new BigDecimal("0.000000000001")));
    for (int i = 0; i < 20_000; i++) {
      BigInteger unscaled =
          i % 10 == 0
              ? new BigInteger(100, random)
              : BigInteger.valueOf(random.nextLong() % 10_000_000_000L);
      values.add(new BigDecimal(unscaled, random.nextInt(14) - 2));
    }
    for (BigDecimal v : values) {
      for (int n : new int[] {2, 6}) {
        BigDecimal expected = v.divide(BigDecimal.TEN.pow(n));
        BigDecimal actual = dev.tollgate.sidecar.config.ModelPrice.dividedByPowerOfTen(v, n);
        assertThat(actual).as("%s / 10^%d", v, n).isEqualTo(expected);
        assertThat(actual.scale()).as("scale of %s / 10^%d", v, n).isEqualTo(expected.scale());
      }
    }
  }
}
