package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.anthropic.client.AnthropicClient;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.MessageTokensCount;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.openai.client.OpenAIClient;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.AwsSignatureCheck;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.RecordedRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bedrock through IAM with no Secret: the pod's IRSA environment (a projected web-identity token
 * file and a role ARN, as EKS's webhook sets them) is exchanged at a fake STS on loopback by the
 * AWS SDK's default chain, and every Bedrock call is SigV4-signed with the session credentials; the
 * simulator checks each signature with the SDK's signer and answers AWS's 403 otherwise.
 */
class BedrockIamIT {
  private static final String ROLE = "arn:aws:iam::111122223333:role/bedrock-caller";
  private static final String TOKEN = "eyJhbGciOiJSUzI1NiJ9.fake-irsa-token.sig";
  private static final String[] PROPS = {
    "aws.webIdentityTokenFile",
    "aws.roleArn",
    "aws.roleSessionName",
    "aws.region",
    "aws.endpointUrlSts"
  };

  private static FakeSts sts;
  private static ProviderSimulator sim;
  private static Path dir;
  private static Sidecar sidecar;
  private static OpenAIClient openai;
  private static AnthropicClient anthropic;

  @BeforeAll
  static void start() throws Exception {
    sts = new FakeSts(TOKEN, ROLE);
    // every issue is due for renewal at once (the sidecar renews with 5 minutes left, the SDK's
    // cache with 1 minute left), so the sidecar renews all along, every 5 s
    sts.validity = Duration.ofSeconds(61);
    dir = Files.createTempDirectory("tollgate-irsa");
    Files.writeString(dir.resolve("token"), TOKEN);
    // what EKS's pod identity webhook puts in the pod's environment (as system properties here)
    System.setProperty("aws.webIdentityTokenFile", dir.resolve("token").toString());
    System.setProperty("aws.roleArn", ROLE);
    System.setProperty("aws.roleSessionName", "tollgate");
    System.setProperty("aws.region", "us-east-1");
    System.setProperty("aws.endpointUrlSts", sts.url());
    sim = ProviderSimulator.start();
    sim.requireAwsSignature(new AwsSignatureCheck(sts::issued, "us-east-1"));
    sidecar = startSidecar("iam");
    openai = SdkClients.openAi(sidecar.baseUrl(), "x");
    anthropic = SdkClients.anthropic(sidecar.baseUrl(), "x");
    await().atMost(Duration.ofSeconds(20)).until(() -> sts.exchanges() > 0);
  }

  private static Sidecar startSidecar(String name) throws Exception {
    Path config = dir.resolve(name + ".yaml");
    Files.writeString(
        config,
        """
        namespace: shop
        routes:
          - model: br
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            tiers: [{name: main, targets: [{credential: bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0"}]}]
          - model: br-us
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            tiers: [{name: main, targets: [{credential: bedrock-us, model: "anthropic.claude-3-5-haiku-20241022-v1:0"}]}]
        credentials:
          - name: bedrock
            provider: bedrock
            endpoint: "%1$s"
            bedrock: {region: us-east-1}
            auth: {kind: awsIam}
          - name: bedrock-us
            provider: bedrock
            endpoint: "%1$s"
            bedrock: {region: us-east-1, inferenceProfile: us}
            auth: {kind: awsIam}
        """
            .formatted(sim.baseUrl()));
    return Sidecar.start(config, 0, 1, Duration.ofMillis(200));
  }

  @AfterAll
  static void stop() {
    openai.close();
    anthropic.close();
    sidecar.shutdown(Duration.ZERO);
    sim.close();
    sts.close();
    for (String p : PROPS) {
      System.clearProperty(p);
    }
  }

  private static ChatCompletionCreateParams params(String route) {
    return ChatCompletionCreateParams.builder()
        .model(route)
        .addUserMessage("hi")
        .maxTokens(20)
        .build();
  }

  private static void awaitServing() {
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(() -> openai.chat().completions().create(params("br")) != null);
  }

  @Test
  void openAiSdkChatAndStreamAreSignedWithTheIrsaSessionCredentials() {
    awaitServing();
    ChatCompletion c = openai.chat().completions().create(params("br"));
    assertThat(c.choices().get(0).message().content().orElseThrow()).contains("t0 t1 t2");
    RecordedRequest up = sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    assertThat(up.header("authorization"))
        .startsWith("AWS4-HMAC-SHA256 Credential=ASIAFAKE")
        .contains("/us-east-1/bedrock/aws4_request");
    assertThat(up.header("x-amz-security-token")).startsWith("session-token-");

    StringBuilder text = new StringBuilder();
    try (com.openai.core.http.StreamResponse<ChatCompletionChunk> s =
        openai.chat().completions().createStreaming(params("br"))) {
      s.stream()
          .forEach(ch -> ch.choices().forEach(x -> x.delta().content().ifPresent(text::append)));
    }
    assertThat(text.toString()).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(sim.lastRequest().uri()).endsWith("/converse-stream");
  }

  @Test
  void anthropicSdkChatAndStreamThroughACrossRegionInferenceProfile() {
    awaitServing();
    MessageCreateParams p =
        MessageCreateParams.builder().model("br-us").maxTokens(20).addUserMessage("hi").build();
    assertThat(anthropic.messages().create(p).content().get(0).text().orElseThrow().text())
        .contains("t0 t1 t2");
    assertThat(sim.lastRequest().uri())
        .isEqualTo("/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse");

    MessageAccumulator acc = MessageAccumulator.create();
    try (com.anthropic.core.http.StreamResponse<RawMessageStreamEvent> s =
        anthropic.messages().createStreaming(p)) {
      s.stream().forEach(acc::accumulate);
    }
    assertThat(acc.message().content().get(0).text().orElseThrow().text())
        .isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(sim.lastRequest().header("authorization")).startsWith("AWS4-HMAC-SHA256 ");
  }

  @Test
  void countTokensThroughAnInferenceProfileIsSignedForTheFoundationModelsPath() {
    awaitServing();
    MessageTokensCount n =
        anthropic
            .messages()
            .countTokens(
                MessageCountTokensParams.builder().model("br-us").addUserMessage("hi").build());

    assertThat(n.inputTokens()).isPositive();
    RecordedRequest up = sim.lastRequest();
    // the simulator checked the SigV4 signature over this path and body
    assertThat(up.uri())
        .isEqualTo("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/count-tokens");
    assertThat(up.header("authorization")).startsWith("AWS4-HMAC-SHA256 Credential=ASIAFAKE");
  }

  @Test
  void aWrongSignatureGetsAwsForbiddenShape() throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(sim.baseUrl() + "/model/anthropic.claude-3-haiku/converse"))
                    .header("content-type", "application/json")
                    .header(
                        "authorization",
                        "AWS4-HMAC-SHA256 Credential=ASIAFAKE000000000001/20261202/us-east-1/"
                            + "bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date,"
                            + " Signature="
                            + "0".repeat(64))
                    .header("x-amz-date", "20261202T000000Z")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[]}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.headers().firstValue("x-amzn-ErrorType").orElse(""))
        .matches("(UnrecognizedClientException|InvalidSignatureException):.*");
    assertThat(r.body()).contains("\"message\"");
  }

  @Test
  void aDeniedRoleIsA503ThatSaysWhy() throws Exception {
    sts.deny = true;
    Sidecar denied = startSidecar("denied");
    OpenAIClient client = SdkClients.openAi(denied.baseUrl(), "x");
    try {
      OpenAIServiceException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              OpenAIServiceException.class, () -> client.chat().completions().create(params("br")));
      assertThat(e.statusCode()).isEqualTo(503);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(
                          org.junit.jupiter.api.Assertions.assertThrows(
                                  OpenAIServiceException.class,
                                  () -> client.chat().completions().create(params("br")))
                              .getMessage())
                      .contains("AWS credentials of credential bedrock")
                      .contains("Not authorized to perform sts:AssumeRoleWithWebIdentity"));
    } finally {
      sts.deny = false;
      client.close();
      denied.shutdown(Duration.ZERO);
    }
  }

  @Test
  void renewingCredentialsUnderLoadDropsNoCall() throws Exception {
    awaitServing();
    int before = sts.exchanges();
    Set<String> keysSeen = ConcurrentHashMap.newKeySet();
    AtomicInteger ok = new AtomicInteger();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(4);
    Instant end = Instant.now().plusSeconds(12);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      workers.add(
          pool.submit(
              () -> {
                while (Instant.now().isBefore(end)) {
                  try {
                    openai.chat().completions().create(params("br"));
                    ok.incrementAndGet();
                    String auth = sim.lastRequest().header("authorization");
                    keysSeen.add(auth.substring(auth.indexOf('=') + 1, auth.indexOf('/')));
                  } catch (RuntimeException e) {
                    failures.add(e);
                  }
                }
              }));
    }
    for (Future<?> f : workers) {
      f.get();
    }
    pool.shutdown();
    assertThat(failures).isEmpty();
    assertThat(ok.get()).isGreaterThan(20);
    assertThat(sts.exchanges() - before).isGreaterThanOrEqualTo(2);
    assertThat(keysSeen).hasSizeGreaterThanOrEqualTo(2);
  }
}
