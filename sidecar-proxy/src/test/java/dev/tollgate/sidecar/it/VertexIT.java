package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.anthropic.client.AnthropicClient;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.MessageTokensCount;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.RecordedRequest;
import dev.tollgate.simulator.SimulatorBehavior;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Vertex AI with a service-account key: the sidecar mints an OAuth token at the key's token_uri
 * (the simulator) with Google's auth library, then calls Gemini and Claude on Vertex.
 */
class VertexIT {
  private static ProviderSimulator sim;
  private static Sidecar sidecar;
  private static OpenAIClient openai;
  private static AnthropicClient anthropic;

  @BeforeAll
  static void start() throws Exception {
    sim = ProviderSimulator.start();
    Path dir = Files.createTempDirectory("tollgate-vertex");
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    KeyPair pair = gen.generateKeyPair();
    String pem =
        "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes())
                .encodeToString(pair.getPrivate().getEncoded())
            + "\n-----END PRIVATE KEY-----\n";
    ObjectNode sa = new ObjectMapper().createObjectNode();
    sa.put("type", "service_account").put("project_id", "shop-prod").put("private_key_id", "k1");
    sa.put("private_key", pem).put("client_email", "tollgate@shop-prod.iam.gserviceaccount.com");
    sa.put("client_id", "1").put("token_uri", sim.baseUrl() + "/token");
    Files.writeString(dir.resolve("sa.json"), sa.toString());
    Files.writeString(
        dir.resolve("config.yaml"),
        """
        namespace: vertex
        routes:
          - model: vg
            tiers: [{name: main, targets: [{credential: vertex, model: gemini-1.5-flash}]}]
          - model: vc
            tiers: [{name: main, targets: [{credential: vertex, model: "claude-3-5-sonnet@20240620"}]}]
          - model: ve
            tiers: [{name: main, targets: [{credential: vertex, model: gemini-embedding-001}]}]
          - model: ve5
            tiers: [{name: main, targets: [{credential: vertex, model: text-embedding-005}]}]
        credentials:
          - name: vertex
            provider: vertex-ai
            endpoint: "%s"
            apiKeyFile: "%s/sa.json"
            vertex: {project: shop-prod, location: us-east5}
            markupPercent: "10"
        """
            .formatted(sim.baseUrl(), dir));
    sidecar = Sidecar.start(dir.resolve("config.yaml"), 0, 1, Duration.ofMillis(200));
    openai = SdkClients.openAi(sidecar.baseUrl(), "x");
    anthropic = SdkClients.anthropic(sidecar.baseUrl(), "x");
    await().atMost(Duration.ofSeconds(20)).until(() -> sim.tokenRequests() > 0);
  }

  @AfterAll
  static void stop() {
    openai.close();
    anthropic.close();
    sidecar.shutdown(Duration.ZERO);
    sim.close();
  }

  private static ChatCompletionCreateParams params(String route) {
    return ChatCompletionCreateParams.builder()
        .model(route)
        .addSystemMessage("Be brief.")
        .addUserMessage("hi")
        .maxTokens(20)
        .build();
  }

  @Test
  void geminiOnVertexWithAMintedToken() {
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> openai.chat().completions().create(params("vg")) != null);
    ChatCompletion c = openai.chat().completions().create(params("vg"));
    assertThat(c.choices().get(0).message().content()).contains("t0 t1 t2 t3 t4 t5 t6 t7");
    RecordedRequest up = sim.lastRequest();
    assertThat(up.uri())
        .isEqualTo(
            "/v1/projects/shop-prod/locations/us-east5/publishers/google/models/gemini-1.5-flash:generateContent");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + ProviderSimulator.VERTEX_TOKEN);
    assertThat(up.body().at("/systemInstruction/parts/0/text").asText()).isEqualTo("Be brief.");

    StringBuilder text = new StringBuilder();
    try (com.openai.core.http.StreamResponse<ChatCompletionChunk> s =
        openai.chat().completions().createStreaming(params("vg"))) {
      s.stream()
          .forEach(ch -> ch.choices().forEach(x -> x.delta().content().ifPresent(text::append)));
    }
    assertThat(text.toString()).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(sim.lastRequest().uri()).endsWith(":streamGenerateContent?alt=sse");
  }

  @Test
  void claudeOnVertexThroughRawPredict() {
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> openai.chat().completions().create(params("vc")) != null);
    ChatCompletion c = openai.chat().completions().create(params("vc"));
    assertThat(c.choices().get(0).message().content()).contains("t0 t1 t2 t3 t4 t5 t6 t7");
    RecordedRequest up = sim.lastRequest();
    assertThat(up.uri())
        .isEqualTo(
            "/v1/projects/shop-prod/locations/us-east5/publishers/anthropic/models/claude-3-5-sonnet@20240620:rawPredict");
    assertThat(up.body().path("anthropic_version").asText()).isEqualTo("vertex-2023-10-16");
    assertThat(up.body().has("model")).isFalse();
    assertThat(up.body().path("system").asText()).isEqualTo("Be brief.");

    MessageAccumulator acc = MessageAccumulator.create();
    try (com.anthropic.core.http.StreamResponse<RawMessageStreamEvent> s =
        anthropic
            .messages()
            .createStreaming(
                MessageCreateParams.builder()
                    .model("vc")
                    .maxTokens(20)
                    .addUserMessage("hi")
                    .build())) {
      s.stream().forEach(acc::accumulate);
    }
    assertThat(acc.message().content().get(0).text().orElseThrow().text())
        .isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(sim.lastRequest().uri()).endsWith(":streamRawPredict");
  }

  @Test
  void countTokensForClaudeOnVertexGoesToCountTokensRawPredict() {
    MessageCountTokensParams p =
        MessageCountTokensParams.builder()
            .model("vc")
            .system("Be brief.")
            .addUserMessage("How many tokens?")
            .build();
    MessageTokensCount n =
        await()
            .atMost(Duration.ofSeconds(10))
            .ignoreExceptions()
            .until(() -> anthropic.messages().countTokens(p), r -> r != null);

    assertThat(n.inputTokens()).isPositive();
    RecordedRequest up = sim.lastRequest();
    assertThat(up.uri())
        .isEqualTo(
            "/v1/projects/shop-prod/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + ProviderSimulator.VERTEX_TOKEN);
    assertThat(up.body().path("model").asText()).isEqualTo("claude-3-5-sonnet@20240620");
    assertThat(up.body().path("anthropic_version").asText()).isEqualTo("vertex-2023-10-16");
    assertThat(up.body().path("system").asText()).isEqualTo("Be brief.");
    assertThat(up.body().has("max_tokens")).isFalse();
    assertThat(sidecar.ledger().total().costUsd()).as("counting is free").isNotNegative();
  }

  @Test
  void countTokensForGeminiOnVertexIsTheModelsOwnCountTokens() {
    MessageTokensCount n =
        anthropic
            .messages()
            .countTokens(
                MessageCountTokensParams.builder()
                    .model("vg")
                    .system("Be brief.")
                    .addUserMessage("hi")
                    .build());
    assertThat(n.inputTokens()).isPositive();
    RecordedRequest up = sim.lastRequest();
    assertThat(up.uri())
        .isEqualTo(
            "/v1/projects/shop-prod/locations/us-east5/publishers/google/models/gemini-1.5-flash:countTokens");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + ProviderSimulator.VERTEX_TOKEN);
    assertThat(up.body().at("/systemInstruction/parts/0/text").asText()).isEqualTo("Be brief.");
    assertThat(up.body().at("/contents/0/parts/0/text").asText()).isEqualTo("hi");
  }

  @Test
  void embeddingsOnVertexGoToPredictAndArePricedByTheirTokenCount() {
    sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 0, 0, 0));
    try {
      EmbeddingCreateParams p =
          EmbeddingCreateParams.builder().model("ve").input("hello").dimensions(16).build();
      CreateEmbeddingResponse r =
          await()
              .atMost(Duration.ofSeconds(10))
              .ignoreExceptions()
              .until(() -> openai.embeddings().create(p), x -> x != null);

      assertThat(r.data()).hasSize(1);
      assertThat(r.data().get(0).embedding()).hasSize(16).startsWith(1 / 2f);
      assertThat(r.usage().promptTokens()).isEqualTo(1000);
      RecordedRequest up = sim.lastRequest();
      assertThat(up.uri())
          .isEqualTo(
              "/v1/projects/shop-prod/locations/us-east5/publishers/google/models/gemini-embedding-001:predict");
      assertThat(up.header("authorization")).isEqualTo("Bearer " + ProviderSimulator.VERTEX_TOKEN);
      assertThat(up.body().at("/instances/0/content").asText()).isEqualTo("hello");
      assertThat(up.body().at("/parameters/outputDimensionality").asInt()).isEqualTo(16);
      UsageLedger.Totals t =
          sidecar
              .ledger()
              .snapshot()
              .get(new UsageLedger.Key("ve", "main", "vertex", "gemini-embedding-001"));
      // gemini-embedding-001: $0.15 per million input tokens, plus the credential's 10% markup
      assertThat(t.costUsd()).isEqualByComparingTo(new BigDecimal("0.000165"));

      // text-embedding-005 takes a batch; the usage is the sum of the instances' token counts
      CreateEmbeddingResponse batch =
          openai
              .embeddings()
              .create(
                  EmbeddingCreateParams.builder()
                      .model("ve5")
                      .inputOfArrayOfStrings(List.of("a", "b", "c"))
                      .build());
      assertThat(batch.data()).hasSize(3);
      assertThat(batch.usage().promptTokens()).isEqualTo(3000);
      assertThat(sim.lastRequest().body().path("instances")).hasSize(3);
    } finally {
      sim.behavior(SimulatorBehavior.defaults());
    }
  }

  @Test
  void geminiEmbeddingOnVertexTakesOneInputPerRequest() {
    assertThatThrownBy(
            () ->
                openai
                    .embeddings()
                    .create(
                        EmbeddingCreateParams.builder()
                            .model("ve")
                            .inputOfArrayOfStrings(List.of("a", "b"))
                            .build()))
        .isInstanceOf(com.openai.errors.BadRequestException.class)
        .hasMessageContaining("embeds at most 1 input per request");
  }
}
