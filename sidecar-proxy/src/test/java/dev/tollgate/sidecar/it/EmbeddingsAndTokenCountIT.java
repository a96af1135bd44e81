package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.anthropic.client.AnthropicClient;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageTokensCount;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.errors.BadRequestException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.simulator.RecordedRequest;
import dev.tollgate.simulator.SimulatorBehavior;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/embeddings} and {@code POST /v1/messages/count_tokens} through the official SDKs:
 * routed by alias, the provider's key upstream, failover, metering, the response cache, and a 400
 * for providers that do not serve the endpoint.
 */
class EmbeddingsAndTokenCountIT {
  private static final String ROUTES =
      """
        - model: embed
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers:
            - name: main
              maxTokens: 100
              targets: [{credential: openai, model: text-embedding-3-small}]
        - model: embed-failover
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers:
            - name: main
              targets: [{credential: dead, model: text-embedding-3-small}]
              fallbacks: [{credential: azure, model: text-embedding-3-large}]
        - model: embed-dims
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers:
            - name: main
              targets: [{credential: dead, model: text-embedding-3-small}]
              fallbacks:
                - {credential: azure, model: text-embedding-3-large}
                - {credential: openai, model: text-embedding-3-small}
          embeddingDimensions:
            - {credential: dead, model: text-embedding-3-small, dimensions: 1536}
            - {credential: azure, model: text-embedding-3-large, dimensions: 3072}
            - {credential: openai, model: text-embedding-3-small, dimensions: 1536}
        - model: embed-cached
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          cache: {response: {enabled: true, ttl: 1h}}
          tiers:
            - name: main
              targets: [{credential: openai, model: text-embedding-3-small}]
        - model: claude
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers:
            - name: main
              maxTokens: 300
              targets: [{credential: anthropic, model: claude-3-5-sonnet-20241022}]
        - model: claude-bedrock-profile
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers:
            - name: main
              maxTokens: 300
              targets: [{credential: bedrock, model: "us.anthropic.claude-3-5-haiku-20241022-v1:0"}]
        - model: nova
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers:
            - name: main
              targets: [{credential: bedrock, model: "amazon.nova-lite-v1:0"}]
      """;

  /** An OpenAI credential nothing listens for: connecting fails, the call fails over. */
  private static final String DEAD =
      """
        - {name: dead, provider: openai, endpoint: "http://127.0.0.1:9/v1", apiKeyFile: "%2$s/openai.key"}
      """;

  private static TestBed bed;
  private static OpenAIClient openai;
  private static AnthropicClient anthropic;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start(ROUTES, DEAD);
    openai = SdkClients.openAi(bed.sidecar.baseUrl(), "app-key-never-forwarded");
    anthropic = SdkClients.anthropic(bed.sidecar.baseUrl(), "app-key-never-forwarded");
  }

  @AfterAll
  static void stop() throws Exception {
    openai.close();
    anthropic.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static EmbeddingCreateParams embed(String route, List<String> inputs) {
    return EmbeddingCreateParams.builder().model(route).inputOfArrayOfStrings(inputs).build();
  }

  private static UsageLedger.Totals line(String route, String credential, String model) {
    return bed.sidecar
        .ledger()
        .snapshot()
        .get(new UsageLedger.Key(route, "main", credential, model));
  }

  private static BigDecimal cost(UsageLedger.Totals t) {
    return t == null ? BigDecimal.ZERO : t.costUsd();
  }

  @Test
  void embeddingsAreRoutedForwardedWithTheProvidersKeyAndMeteredAsInputTokens() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 0, 0, 0));
    BigDecimal before = cost(line("embed", "openai", "text-embedding-3-small"));

    CreateEmbeddingResponse r = openai.embeddings().create(embed("embed", List.of("a", "b")));

    assertThat(r.data()).hasSize(2);
    assertThat(r.data().get(1).embedding()).hasSize(8).startsWith(1.0f, 2 / 3f);
    assertThat(r.usage().promptTokens()).isEqualTo(1000);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1/embeddings");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + TestBed.OPENAI_KEY);
    assertThat(up.body().path("model").asText()).isEqualTo("text-embedding-3-small");
    assertThat(up.body().has("max_tokens")).as("the tier's output limit is not sent").isFalse();
    UsageLedger.Totals t = line("embed", "openai", "text-embedding-3-small");
    assertThat(t.inputTokens()).isGreaterThanOrEqualTo(1000);
    assertThat(t.outputTokens()).isZero();
    // text-embedding-3-small: $0.02 per million input tokens
    assertThat(t.costUsd().subtract(before)).isEqualByComparingTo(new BigDecimal("0.00002"));
  }

  @Test
  void embeddingsFailOverToTheNextTarget() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(500, 0, 0, 0));
    BigDecimal before = cost(line("embed-failover", "azure", "text-embedding-3-large"));

    CreateEmbeddingResponse r =
        openai.embeddings().create(embed("embed-failover", List.of("hello")));

    assertThat(r.data()).hasSize(1);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).startsWith("/openai/deployments/prod-4o/embeddings?api-version=");
    assertThat(up.header("api-key")).isEqualTo(TestBed.OPENAI_KEY);
    assertThat(up.header("authorization")).isNull();
    UsageLedger.Totals t = line("embed-failover", "azure", "text-embedding-3-large");
    // text-embedding-3-large: $0.13 per million input tokens
    assertThat(t.costUsd().subtract(before)).isEqualByComparingTo(new BigDecimal("0.000065"));
    assertThat(t.failovers()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void embeddingsNeverFailOverToAModelOfOtherDimensions() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(500, 0, 0, 0));
    CreateEmbeddingResponse r = openai.embeddings().create(embed("embed-dims", List.of("hello")));

    assertThat(r.data()).hasSize(1);
    // the 3072-dimension fallback is skipped for the next one of the first target's 1536
    assertThat(bed.sim.lastRequest().uri()).isEqualTo("/v1/embeddings");
    assertThat(line("embed-dims", "azure", "text-embedding-3-large")).isNull();
    assertThat(line("embed-dims", "openai", "text-embedding-3-small").requests()).isEqualTo(1);

    // read from the configuration, as the operator renders the targets' declared dimensions
    assertThat(
            bed.sidecar
                .context()
                .config()
                .current()
                .route("embed-dims")
                .orElseThrow()
                .dimensionsOf("azure", "text-embedding-3-large"))
        .isEqualTo(3072);
  }

  @Test
  void embeddingsAreCachedWithoutATemperatureAndAHitCostsNothing() throws Exception {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(300, 0, 0, 0));
    String body = "{\"model\":\"embed-cached\",\"input\":\"the same text\"}";
    HttpResponse<String> first = bed.post("/v1/embeddings", body);
    BigDecimal after = cost(line("embed-cached", "openai", "text-embedding-3-small"));
    HttpResponse<String> second = bed.post("/v1/embeddings", body);

    assertThat(first.headers().firstValue("x-tollgate-cache")).hasValue("miss");
    assertThat(second.statusCode()).isEqualTo(200);
    assertThat(second.headers().firstValue("x-tollgate-cache")).hasValue("hit");
    JsonNode a = Json.parseOrNull(first.body());
    JsonNode b = Json.parseOrNull(second.body());
    assertThat(b.path("data")).isEqualTo(a.path("data"));
    assertThat(b.at("/usage/prompt_tokens").asLong()).isEqualTo(300);
    assertThat(bed.sim.stats().requests()).isEqualTo(1);
    UsageLedger.Totals t = line("embed-cached", "openai", "text-embedding-3-small");
    assertThat(t.costUsd()).isEqualByComparingTo(after);
    assertThat(t.cacheHits()).isEqualTo(1);
  }

  @Test
  void embeddingsOnAProviderWithoutThemAreA400NamingTheLimitation() {
    assertThatThrownBy(() -> openai.embeddings().create(embed("an", List.of("x"))))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("POST /v1/embeddings cannot be served by provider anthropic")
        .hasMessageContaining("OpenAI-format providers");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void countTokensIsRoutedLikeMessagesAndFree() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1234, 0, 0, 0));
    BigDecimal before = cost(line("claude", "anthropic", "claude-3-5-sonnet-20241022"));
    long inputBefore = bed.sidecar.ledger().total().inputTokens();

    MessageTokensCount n =
        anthropic
            .messages()
            .countTokens(
                MessageCountTokensParams.builder()
                    .model("claude")
                    .system("You are terse.")
                    .addUserMessage("How many tokens is this?")
                    .build());

    assertThat(n.inputTokens()).isEqualTo(1234);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1/messages/count_tokens");
    assertThat(up.header("x-api-key")).isEqualTo(TestBed.ANTHROPIC_KEY);
    assertThat(up.header("anthropic-version")).isNotNull();
    assertThat(up.body().path("model").asText()).isEqualTo("claude-3-5-sonnet-20241022");
    assertThat(up.body().has("max_tokens")).as("the endpoint refuses max_tokens").isFalse();
    UsageLedger.Totals t = line("claude", "anthropic", "claude-3-5-sonnet-20241022");
    assertThat(t.requests()).isGreaterThanOrEqualTo(1);
    assertThat(t.costUsd()).isEqualByComparingTo(before);
    assertThat(bed.sidecar.ledger().total().inputTokens()).isEqualTo(inputBefore);
  }

  @Test
  void countTokensOnAnOpenAiTargetIsAnAnthropicFormat400() throws Exception {
    HttpResponse<String> r =
        bed.post(
            "/v1/messages/count_tokens",
            "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode e = Json.parseOrNull(r.body());
    assertThat(e.path("type").asText()).isEqualTo("error");
    assertThat(e.at("/error/message").asText())
        .contains("count_tokens cannot be served by provider openai");
  }

  @Test
  void countTokensOnBedrockClaudeUsesCountTokensAndAnswersInAnthropicsShape() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(777, 0, 0, 0));
    BigDecimal before = cost(line("br", "bedrock", "anthropic.claude-3-haiku-20240307-v1:0"));
    long inputBefore = bed.sidecar.ledger().total().inputTokens();

    MessageTokensCount n =
        anthropic
            .messages()
            .countTokens(
                MessageCountTokensParams.builder()
                    .model("br")
                    .system("You are terse.")
                    .addUserMessage("How many tokens is this?")
                    .build());

    assertThat(n.inputTokens()).isEqualTo(777);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/model/anthropic.claude-3-haiku-20240307-v1%3A0/count-tokens");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + TestBed.BEDROCK_KEY);
    JsonNode invoke =
        Json.parseOrNull(
            new String(
                Base64.getDecoder().decode(up.body().at("/input/invokeModel/body").asText()),
                StandardCharsets.UTF_8));
    assertThat(invoke.path("anthropic_version").asText()).isEqualTo("bedrock-2023-05-31");
    assertThat(invoke.path("max_tokens").asLong()).isPositive();
    assertThat(invoke.has("model")).isFalse();
    assertThat(invoke.path("system").asText()).isEqualTo("You are terse.");
    assertThat(invoke.at("/messages/0/content").asText()).isEqualTo("How many tokens is this?");
    UsageLedger.Totals t = line("br", "bedrock", "anthropic.claude-3-haiku-20240307-v1:0");
    assertThat(t.requests()).isGreaterThanOrEqualTo(1);
    assertThat(t.costUsd()).isEqualByComparingTo(before);
    assertThat(bed.sidecar.ledger().total().inputTokens()).isEqualTo(inputBefore);
  }

  @Test
  void countTokensOnBedrockCountsTheFoundationModelOfAnInferenceProfile() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(42, 0, 0, 0));

    MessageTokensCount n =
        anthropic
            .messages()
            .countTokens(
                MessageCountTokensParams.builder()
                    .model("claude-bedrock-profile")
                    .addUserMessage("hi")
                    .build());

    assertThat(n.inputTokens()).isEqualTo(42);
    assertThat(bed.sim.lastRequest().uri())
        .isEqualTo("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/count-tokens");
  }

  @Test
  void countTokensOnABedrockModelOtherThanClaudeIsAClear400NotAnEstimate() throws Exception {
    HttpResponse<String> r =
        bed.post(
            "/v1/messages/count_tokens",
            "{\"model\":\"nova\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode e = Json.parseOrNull(r.body());
    assertThat(e.path("type").asText()).isEqualTo("error");
    assertThat(e.at("/error/message").asText())
        .contains("count_tokens cannot be served by provider bedrock")
        .contains("Claude models only");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void countTokensOnAGeminiTargetIsGeminisOwnCount() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(321, 0, 0, 0));
    long inputBefore = bed.sidecar.ledger().total().inputTokens();

    MessageTokensCount n =
        anthropic
            .messages()
            .countTokens(
                MessageCountTokensParams.builder()
                    .model("ge")
                    .system("You are terse.")
                    .addUserMessage("How many tokens is this?")
                    .build());

    assertThat(n.inputTokens()).isEqualTo(321);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1beta/models/gemini-1.5-flash:countTokens");
    assertThat(up.header("x-goog-api-key")).isEqualTo(TestBed.GEMINI_KEY);
    JsonNode g = up.body().path("generateContentRequest");
    assertThat(g.path("model").asText()).isEqualTo("models/gemini-1.5-flash");
    assertThat(g.at("/systemInstruction/parts/0/text").asText()).isEqualTo("You are terse.");
    assertThat(g.at("/contents/0/parts/0/text").asText()).isEqualTo("How many tokens is this?");
    assertThat(bed.sidecar.ledger().total().inputTokens()).isEqualTo(inputBefore);
  }
}
