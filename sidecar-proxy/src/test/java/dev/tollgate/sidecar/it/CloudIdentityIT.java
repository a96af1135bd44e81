package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.anthropic.client.AnthropicClient;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.ProviderSimulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Vertex AI through Application Default Credentials and Azure OpenAI through Azure Workload
 * Identity, with no Secret: Google's library finds ADC where gcloud puts it and mints a token at a
 * fake Google token endpoint; the pod's projected ServiceAccount token is exchanged at a fake Entra
 * token endpoint (what Azure's webhook puts in the pod, as system properties here); both on
 * loopback. The simulators accept only the access tokens these issued.
 */
class CloudIdentityIT {
  private static final String KSA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.projected-ksa-token.sig";
  private static final String[] PROPS = {
    "user.home",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST"
  };

  private static String userHome;
  private static FakeTokenEndpoint googleSts;
  private static FakeTokenEndpoint entra;
  private static ProviderSimulator vertexSim;
  private static ProviderSimulator azureSim;
  private static Sidecar sidecar;
  private static OpenAIClient openai;
  private static AnthropicClient anthropic;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("tollgate-wi");
    Files.writeString(dir.resolve("ksa-token"), KSA_TOKEN);
    googleSts = new FakeTokenEndpoint(KSA_TOKEN, "ya29.federated-");
    entra = new FakeTokenEndpoint(KSA_TOKEN, "eyJ0eXAi.entra-");

    // Google: ADC found in gcloud's well-known file, here a service-account key whose token_uri
    // is the fake. (Google's library accepts only googleapis.com token URLs in workload identity
    // federation files, and reads the metadata server's address, GKE Workload Identity's source,
    // from an environment variable only; so the test uses the ADC source it can keep on loopback.)
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    String pem =
        "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes())
                .encodeToString(gen.generateKeyPair().getPrivate().getEncoded())
            + "\n-----END PRIVATE KEY-----\n";
    ObjectNode sa = new ObjectMapper().createObjectNode();
    sa.put("type", "service_account").put("project_id", "shop-prod").put("private_key_id", "k1");
    sa.put("private_key", pem).put("client_email", "tollgate@shop-prod.iam.gserviceaccount.com");
    sa.put("client_id", "1").put("token_uri", googleSts.url() + "/token");
    Path gcloud = Files.createDirectories(dir.resolve(".config/gcloud"));
    Files.writeString(gcloud.resolve("application_default_credentials.json"), sa.toString());
    userHome = System.getProperty("user.home");
    System.setProperty("user.home", dir.toString());
    // Azure: what the workload-identity webhook puts in the pod's environment
    System.setProperty("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47");
    System.setProperty("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555");
    System.setProperty("AZURE_FEDERATED_TOKEN_FILE", dir.resolve("ksa-token").toString());
    System.setProperty("AZURE_AUTHORITY_HOST", entra.url() + "/");

    vertexSim = ProviderSimulator.start();
    vertexSim.requireBearerToken(googleSts.token(1));
    azureSim = ProviderSimulator.start();
    azureSim.requireBearerToken(entra.token(1));
    Files.writeString(
        dir.resolve("config.yaml"),
        """
        namespace: shop
        routes:
          - model: vg
            tiers: [{name: main, targets: [{credential: vertex, model: gemini-1.5-flash}]}]
          - model: vc
            tiers: [{name: main, targets: [{credential: vertex, model: "claude-3-5-sonnet@20240620"}]}]
          - model: az
            tiers: [{name: main, targets: [{credential: azure, model: gpt-4o}]}]
        credentials:
          - name: vertex
            provider: vertex-ai
            endpoint: "%s"
            vertex: {project: shop-prod, location: us-east5}
            auth: {kind: gcpWorkloadIdentity}
          - name: azure
            provider: azure-openai
            endpoint: "%s"
            azure: {deployment: gpt-4o}
            auth: {kind: azureWorkloadIdentity}
        """
            .formatted(vertexSim.baseUrl(), azureSim.baseUrl()));
    sidecar = Sidecar.start(dir.resolve("config.yaml"), 0, 1, Duration.ofMillis(200));
    openai = SdkClients.openAi(sidecar.baseUrl(), "x");
    anthropic = SdkClients.anthropic(sidecar.baseUrl(), "x");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> googleSts.exchanges() > 0 && entra.exchanges() > 0);
  }

  @AfterAll
  static void stop() {
    openai.close();
    anthropic.close();
    sidecar.shutdown(Duration.ZERO);
    vertexSim.close();
    azureSim.close();
    googleSts.close();
    entra.close();
    for (String p : PROPS) {
      System.clearProperty(p);
    }
    System.setProperty("user.home", userHome);
  }

  private static ChatCompletionCreateParams params(String route) {
    return ChatCompletionCreateParams.builder()
        .model(route)
        .addUserMessage("hi")
        .maxTokens(20)
        .build();
  }

  private static String stream(String route) {
    StringBuilder text = new StringBuilder();
    try (com.openai.core.http.StreamResponse<ChatCompletionChunk> s =
        openai.chat().completions().createStreaming(params(route))) {
      s.stream()
          .forEach(ch -> ch.choices().forEach(x -> x.delta().content().ifPresent(text::append)));
    }
    return text.toString();
  }

  @Test
  void vertexThroughApplicationDefaultCredentials() {
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> openai.chat().completions().create(params("vg")) != null);
    assertThat(
            openai.chat().completions().create(params("vg")).choices().get(0).message().content())
        .hasValueSatisfying(t -> assertThat(t).contains("t0 t1 t2"));
    assertThat(vertexSim.lastRequest().header("authorization"))
        .isEqualTo("Bearer " + googleSts.token(1));
    assertThat(stream("vg")).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(googleSts.lastForm)
        .containsEntry("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");

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
    assertThat(vertexSim.lastRequest().uri()).endsWith(":streamRawPredict");
  }

  @Test
  void azureOpenAiThroughAnEntraWorkloadIdentityToken() {
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> openai.chat().completions().create(params("az")) != null);
    assertThat(
            openai.chat().completions().create(params("az")).choices().get(0).message().content())
        .hasValueSatisfying(t -> assertThat(t).contains("t0 t1 t2"));
    assertThat(azureSim.lastRequest().header("authorization"))
        .isEqualTo("Bearer " + entra.token(1));
    assertThat(azureSim.lastRequest().header("api-key")).isNull();
    assertThat(stream("az")).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(entra.lastPath).isEqualTo("/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token");
    assertThat(entra.lastForm)
        .containsEntry("grant_type", "client_credentials")
        .containsEntry("client_id", "11111111-2222-3333-4444-555555555555")
        .containsEntry("scope", "https://cognitiveservices.azure.com/.default")
        .containsEntry(
            "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        .containsEntry("client_assertion", KSA_TOKEN);
  }
}
