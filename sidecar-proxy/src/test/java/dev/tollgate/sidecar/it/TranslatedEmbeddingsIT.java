package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/embeddings} translated for providers that do not speak OpenAI's embeddings API,
 * through the official OpenAI SDK: Gemini's batchEmbedContents, Bedrock's InvokeModel for Titan and
 * Cohere; the provider's key upstream, {@code dimensions} passed or refused, {@code
 * encoding_format} applied, exact costs. Vertex AI's {@code predict} is in {@code VertexIT}.
 */
class TranslatedEmbeddingsIT {
  private static final String ROUTES =
      """
        - model: gemini-embed
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers: [{name: main, targets: [{credential: gemini, model: gemini-embedding-001}]}]
        - model: titan
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers: [{name: main, targets: [{credential: bedrock, model: "amazon.titan-embed-text-v2:0"}]}]
        - model: cohere
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers: [{name: main, targets: [{credential: bedrock, model: cohere.embed-english-v3}]}]
        - model: titan-cached
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          cache: {response: {enabled: true, ttl: 1h}}
          tiers: [{name: main, targets: [{credential: bedrock, model: "amazon.titan-embed-text-v2:0"}]}]
        - model: claude-embed
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers: [{name: main, targets: [{credential: bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0"}]}]
      """;

  private static TestBed bed;
  private static OpenAIClient openai;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start(ROUTES);
    openai = SdkClients.openAi(bed.sidecar.baseUrl(), "app-key-never-forwarded");
  }

  @AfterAll
  static void stop() throws Exception {
    openai.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
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
  void geminiEmbeddingsGoToBatchEmbedContentsWithOutputDimensionality() {
    CreateEmbeddingResponse r =
        openai
            .embeddings()
            .create(
                EmbeddingCreateParams.builder()
                    .model("gemini-embed")
                    .inputOfArrayOfStrings(List.of("a", "b"))
                    .dimensions(4)
                    .build());

    assertThat(r.data()).hasSize(2);
    assertThat(r.data().get(0).embedding()).containsExactly(1 / 2f, 1 / 3f, 1 / 4f, 1 / 5f);
    assertThat(r.data().get(1).index()).isEqualTo(1);
    assertThat(r.data().get(1).embedding()).hasSize(4).startsWith(1.0f);
    assertThat(r.model()).isEqualTo("gemini-embedding-001");
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1beta/models/gemini-embedding-001:batchEmbedContents");
    assertThat(up.header("x-goog-api-key")).isEqualTo(TestBed.GEMINI_KEY);
    assertThat(up.header("authorization")).isNull();
    assertThat(up.body().at("/requests/0/model").asText()).isEqualTo("models/gemini-embedding-001");
    assertThat(up.body().at("/requests/1/content/parts/0/text").asText()).isEqualTo("b");
    assertThat(up.body().at("/requests/0/outputDimensionality").asInt()).isEqualTo(4);
    UsageLedger.Totals t = line("gemini-embed", "gemini", "gemini-embedding-001");
    assertThat(t.requests()).isEqualTo(1);
    // no count in Gemini's answer: "a" and "b" are 2 characters, ceil(2 / 4) = 1 token at
    // gemini-embedding-001's $0.15 per million input tokens
    assertThat(t.inputTokens()).isEqualTo(1);
    assertThat(t.costUsd()).isEqualByComparingTo("0.00000015");
    assertThat(t.unpricedRequests()).isZero();
  }

  @Test
  void tokenArrayInputsCannotBeTranslatedAndAreA400() throws Exception {
    HttpResponse<String> r =
        bed.post("/v1/embeddings", "{\"model\":\"gemini-embed\",\"input\":[[1,2,3]]}");
    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode e = Json.parseOrNull(r.body());
    assertThat(e.at("/error/type").asText()).isEqualTo("invalid_request_error");
    assertThat(e.at("/error/message").asText()).contains("token arrays cannot be translated");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void badDimensionsAndEncodingAreA400BeforeAnythingIsSent() throws Exception {
    assertThat(
            bed.post(
                    "/v1/embeddings",
                    "{\"model\":\"gemini-embed\",\"input\":\"x\",\"dimensions\":0}")
                .body())
        .contains("dimensions must be an integer from 1 to 65536");
    assertThat(
            bed.post(
                    "/v1/embeddings",
                    "{\"model\":\"gemini-embed\",\"input\":\"x\",\"encoding_format\":\"int8\"}")
                .body())
        .contains("encoding_format must be");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void titanGetsOneInputWithItsDimensionsAndIsPricedByItsTokenCount() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 0, 0, 0));
    BigDecimal before = cost(line("titan", "bedrock", "amazon.titan-embed-text-v2:0"));

    CreateEmbeddingResponse r =
        openai
            .embeddings()
            .create(
                EmbeddingCreateParams.builder()
                    .model("titan")
                    .input("hello")
                    .dimensions(256)
                    .build());

    assertThat(r.data()).hasSize(1);
    assertThat(r.data().get(0).embedding()).hasSize(256);
    assertThat(r.usage().promptTokens()).isEqualTo(1000);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/model/amazon.titan-embed-text-v2%3A0/invoke");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + TestBed.BEDROCK_KEY);
    assertThat(up.body().path("inputText").asText()).isEqualTo("hello");
    assertThat(up.body().path("dimensions").asInt()).isEqualTo(256);
    UsageLedger.Totals t = line("titan", "bedrock", "amazon.titan-embed-text-v2:0");
    // Titan Text Embeddings V2: $0.02 per million input tokens
    assertThat(t.costUsd().subtract(before)).isEqualByComparingTo(new BigDecimal("0.00002"));
    assertThat(t.outputTokens()).isZero();
  }

  @Test
  void titanRefusesSeveralInputsAndSizesItDoesNotMake() {
    assertThatThrownBy(
            () ->
                openai
                    .embeddings()
                    .create(
                        EmbeddingCreateParams.builder()
                            .model("titan")
                            .inputOfArrayOfStrings(List.of("a", "b"))
                            .build()))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("embeds at most 1 input per request");
    assertThatThrownBy(
            () ->
                openai
                    .embeddings()
                    .create(
                        EmbeddingCreateParams.builder()
                            .model("titan")
                            .input("a")
                            .dimensions(100)
                            .build()))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("takes dimensions [256, 512, 1024] only");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void base64EncodingIsAppliedToATranslatedAnswer() throws Exception {
    HttpResponse<String> r =
        bed.post(
            "/v1/embeddings",
            "{\"model\":\"titan\",\"input\":\"x\",\"dimensions\":256,\"encoding_format\":\"base64\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    String b64 = Json.parseOrNull(r.body()).at("/data/0/embedding").asText();
    ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(b64)).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(b.remaining()).isEqualTo(256 * 4);
    assertThat(b.getFloat()).isEqualTo(1 / 2f);
    assertThat(b.getFloat()).isEqualTo(1 / 3f);
  }

  @Test
  void cohereOnBedrockTakesABatchAndIsPricedByBedrocksTokenCountHeader() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 0, 0, 0));
    BigDecimal before = cost(line("cohere", "bedrock", "cohere.embed-english-v3"));

    CreateEmbeddingResponse r =
        openai
            .embeddings()
            .create(
                EmbeddingCreateParams.builder()
                    .model("cohere")
                    .inputOfArrayOfStrings(List.of("a", "b", "c"))
                    .build());

    assertThat(r.data()).hasSize(3);
    assertThat(r.data().get(2).embedding()).startsWith(3 / 2f);
    assertThat(r.usage().promptTokens()).isEqualTo(1000);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/model/cohere.embed-english-v3/invoke");
    assertThat(up.body().path("texts")).hasSize(3);
    assertThat(up.body().path("input_type").asText()).isEqualTo("search_document");
    UsageLedger.Totals t = line("cohere", "bedrock", "cohere.embed-english-v3");
    // Cohere Embed v3 on Bedrock: $0.10 per million input tokens
    assertThat(t.costUsd().subtract(before)).isEqualByComparingTo(new BigDecimal("0.0001"));
  }

  @Test
  void aBedrockModelWithoutEmbeddingsIsA400NamingWhatIsServed() {
    assertThatThrownBy(
            () ->
                openai
                    .embeddings()
                    .create(
                        EmbeddingCreateParams.builder().model("claude-embed").input("x").build()))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("POST /v1/embeddings cannot be served by provider bedrock")
        .hasMessageContaining("Titan");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void aCachedTranslatedAnswerIsReplayedInTheEncodingItWasAskedIn() throws Exception {
    String body =
        "{\"model\":\"titan-cached\",\"input\":\"same\",\"dimensions\":256,"
            + "\"encoding_format\":\"base64\"}";
    HttpResponse<String> first = bed.post("/v1/embeddings", body);
    HttpResponse<String> second = bed.post("/v1/embeddings", body);

    assertThat(first.headers().firstValue("x-tollgate-cache")).hasValue("miss");
    assertThat(second.headers().firstValue("x-tollgate-cache")).hasValue("hit");
    JsonNode a = Json.parseOrNull(first.body());
    JsonNode b = Json.parseOrNull(second.body());
    assertThat(b.at("/data/0/embedding").isTextual()).isTrue();
    assertThat(b.path("data")).isEqualTo(a.path("data"));
    assertThat(bed.sim.stats().requests()).isEqualTo(1);
  }
}
