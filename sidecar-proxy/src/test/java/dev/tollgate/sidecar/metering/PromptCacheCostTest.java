package dev.tollgate.sidecar.metering;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ModelPrice;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.provider.bedrock.BedrockWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.Json;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Exact cost of calls with prompt-cache reads and writes, hand-computed from the seed prices
 * (Claude Sonnet: input $3/M, cache write $3.75/M, cache read $0.30/M, output $15/M). Sums are
 * written as "price × tokens" in dollars per million tokens, then divided by 1,000,000.
 */
class PromptCacheCostTest {
  private final CostCalculator calc = new CostCalculator(PriceCatalogue.builtIn());

  private static CredentialConfig credential(ProviderKind kind, List<ModelPrice> prices) {
    return CredentialConfig.builder("c", kind).apiKeyFile("/k").prices(prices).build();
  }

  private static final CredentialConfig ANTHROPIC = credential(ProviderKind.ANTHROPIC, List.of());

  @Test
  void sonnetWithCacheReadsAndWrites() {
    // 500 input × 3 = 1,500; 2,000 write × 3.75 = 7,500; 10,000 read × 0.30 = 3,000;
    // 800 output × 15 = 12,000; total 24,000 $/M = $0.024 = 24,000 micro-dollars
    Cost cost =
        calc.cost(ANTHROPIC, "claude-3-5-sonnet-20241022", new Usage(500, 800, 10_000, 2_000));
    assertThat(cost.usd()).isEqualByComparingTo("0.024");
    assertThat(cost.microDollars()).isEqualTo(24_000);
  }

  @Test
  void seedFirstAndSecondRequestOfACachedSystemPrompt() {
    // the seed's usage print-out, first request: input 1,200, cache_creation 1,000, output 150:
    // 1,200 × 3 = 3,600; 1,000 × 3.75 = 3,750; 150 × 15 = 2,250; total 9,600 $/M = $0.0096
    Cost first = calc.cost(ANTHROPIC, "claude-3-5-sonnet-20241022", new Usage(1200, 150, 0, 1000));
    assertThat(first.usd()).isEqualByComparingTo("0.0096");
    assertThat(first.microDollars()).isEqualTo(9_600);
    // second request, the 1,000 tokens read instead: 3,600 + 1,000 × 0.30 = 300 + 2,250
    // = 6,150 $/M = $0.00615
    Cost second = calc.cost(ANTHROPIC, "claude-3-5-sonnet-20241022", new Usage(1200, 150, 1000, 0));
    assertThat(second.usd()).isEqualByComparingTo("0.00615");
    assertThat(second.microDollars()).isEqualTo(6_150);
  }

  @Test
  void seedMonthlyRoiOfAnEightyPercentHitRate() {
    // seed ROI: writes 2,000 × 1,000 tokens × $3.75/M = $7.50, reads 8,000 × 1,000 × $0.30/M
    // = $2.40; total $9.90
    Cost month =
        calc.cost(ANTHROPIC, "claude-3-5-sonnet-20241022", new Usage(0, 0, 8_000_000, 2_000_000));
    assertThat(month.usd()).isEqualByComparingTo("9.90");
  }

  @Test
  void haikuCachePrices() {
    // Haiku: input 0.25, output 1.25, read 0.03, write 0.30 $/M
    // 100 × 0.25 = 25; 50 × 1.25 = 62.5; 4,000 × 0.03 = 120; 2,100 × 0.30 = 630;
    // total 837.5 $/M = $0.0008375 (837.5 micro-dollars, 838 rounded)
    Cost cost = calc.cost(ANTHROPIC, "claude-3-haiku-20240307", new Usage(100, 50, 4_000, 2_100));
    assertThat(cost.usd()).isEqualByComparingTo("0.0008375");
    assertThat(cost.microDollars()).isEqualTo(838);
  }

  @Test
  void bedrockClaudeIsPricedLikeAnthropicFromItsOwnUsageFields() {
    Usage u =
        BedrockWire.decodeResponse(
                Json.parseOrNull(
                    """
                    {"output":{"message":{"content":[{"text":"ok"}]}},"stopReason":"end_turn",
                     "usage":{"inputTokens":200,"outputTokens":150,
                              "cacheReadInputTokens":1000,"cacheWriteInputTokens":300}}
                    """),
                "anthropic.claude-3-5-sonnet-20241022-v2:0")
            .usage();
    // 200 × 3 = 600; 150 × 15 = 2,250; 1,000 × 0.30 = 300; 300 × 3.75 = 1,125;
    // total 4,275 $/M = $0.004275
    Cost cost =
        calc.cost(
            credential(ProviderKind.BEDROCK, List.of()),
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            u);
    assertThat(cost.usd()).isEqualByComparingTo("0.004275");
  }

  private static final String OPENAI_ANSWER =
      """
      {"id":"c","choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],
       "usage":{"prompt_tokens":1200,"completion_tokens":80,"total_tokens":1280,
                "prompt_tokens_details":{"cached_tokens":1024}}}
      """;

  @Test
  void openAiCachedTokensAreChargedOnceAtTheCachedPrice() {
    Usage u = OpenAiWire.decodeResponse(Json.parseOrNull(OPENAI_ANSWER)).usage();
    // prompt_tokens 1,200 include the 1,024 cached: 176 at input, 1,024 at the cached price.
    // gpt-4o with a cached price of $2.50/M (an override; the seeds give none):
    // 176 × 5 = 880; 1,024 × 2.50 = 2,560; 80 × 15 = 1,200; total 4,640 $/M = $0.00464
    // (charging the prompt in full as well would give 6,000 + 2,560 + 1,200 = $0.00976)
    ModelPrice cached =
        new ModelPrice(
            "gpt-4o",
            new BigDecimal("5.00"),
            new BigDecimal("15.00"),
            new BigDecimal("2.50"),
            null);
    Cost cost = calc.cost(credential(ProviderKind.OPENAI, List.of(cached)), "gpt-4o", u);
    assertThat(cost.usd()).isEqualByComparingTo("0.00464");
    assertThat(cost.microDollars()).isEqualTo(4_640);
  }

  @Test
  void openAiCachedTokensGetTheCataloguesCachedInputDiscount() {
    Usage u = OpenAiWire.decodeResponse(Json.parseOrNull(OPENAI_ANSWER)).usage();
    // gpt-4o list prices: input $2.50, cached input $1.25, output $10 per million:
    // 176 × 2.50 + 1,024 × 1.25 + 80 × 10 = 440 + 1,280 + 800 = 2,520 $/M = $0.00252
    // (the cached tokens at the input price would give $0.00380)
    Cost cost = calc.cost(credential(ProviderKind.OPENAI, List.of()), "gpt-4o", u);
    assertThat(cost.usd()).isEqualByComparingTo("0.00252");
  }

  @Test
  void cachedTokensWithoutACachedPriceAnywhereCostTheSameAsThePrompt() {
    Usage u = OpenAiWire.decodeResponse(Json.parseOrNull(OPENAI_ANSWER)).usage();
    // gpt-3.5-turbo has no cached price: cached tokens are priced as input, never twice:
    // 1,200 prompt × 0.50 + 80 × 1.50 = 600 + 120 = 720 $/M
    Cost cost = calc.cost(credential(ProviderKind.OPENAI, List.of()), "gpt-3.5-turbo", u);
    assertThat(cost.usd()).isEqualByComparingTo("0.00072");
  }

  @Test
  void geminiCachedContentIsChargedOnce() {
    Usage u =
        GeminiWire.decodeResponse(
                Json.parseOrNull(
                    """
                    {"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}],
                     "usageMetadata":{"promptTokenCount":1500,"cachedContentTokenCount":1024,
                                      "candidatesTokenCount":60}}
                    """))
            .usage();
    assertThat(u).isEqualTo(new Usage(476, 60, 1024, 0));
    // gemini-1.5-flash: input 0.075, output 0.30, context-cache reads 0.01875:
    // 476 × 0.075 = 35.7; 1,024 × 0.01875 = 19.2; 60 × 0.30 = 18; total 72.9 $/M = $0.0000729
    Cost catalogue =
        calc.cost(credential(ProviderKind.GEMINI, List.of()), "gemini-1.5-flash-002", u);
    assertThat(catalogue.usd()).isEqualByComparingTo("0.0000729");
    // with a cached price of $0.01875/M (an override): 35.7 + 1,024 × 0.01875 = 19.2 + 18
    // = 72.9 $/M = $0.0000729
    ModelPrice cached =
        new ModelPrice(
            "gemini-1.5-flash-002",
            new BigDecimal("0.075"),
            new BigDecimal("0.30"),
            new BigDecimal("0.01875"),
            null);
    Cost overridden =
        calc.cost(credential(ProviderKind.GEMINI, List.of(cached)), "gemini-1.5-flash-002", u);
    assertThat(overridden.usd()).isEqualByComparingTo("0.0000729");
  }
}
