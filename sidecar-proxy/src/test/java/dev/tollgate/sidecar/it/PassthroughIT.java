package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.anthropic.client.AnthropicClient;
import com.anthropic.errors.BadRequestException;
import com.anthropic.models.messages.batches.BatchCreateParams;
import com.anthropic.models.messages.batches.MessageBatch;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import com.openai.models.models.Model;
import com.openai.models.responses.Response;
import dev.tollgate.sidecar.call.PassthroughCall;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.simulator.RecordedRequest;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Governed passthrough through the official SDKs: files, stored responses, models by id and
 * Anthropic's message batches reach the namespace's credential of the caller's format with that
 * credential's key (never the caller's), answers stream back unchanged (a provider 404 included),
 * and each call is metered on route {@code _passthrough}.
 */
class PassthroughIT {
  private static final String APP_KEY = "app-key-never-forwarded";
  private static TestBed bed;
  private static OpenAIClient openai;
  private static AnthropicClient anthropic;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
    openai = SdkClients.openAi(bed.sidecar.baseUrl(), APP_KEY);
    anthropic = SdkClients.anthropic(bed.sidecar.baseUrl(), APP_KEY);
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

  private static void assertCarriesTheCredentialsKeyOnly(
      RecordedRequest up, String header, String value) {
    assertThat(up.header(header)).isEqualTo(value);
    assertThat(up.headers().values()).noneMatch(v -> v.contains(APP_KEY));
  }

  @Test
  void filesAreListedAndUploadedWithTheNamespacesOpenAiKey() {
    assertThat(openai.files().list().data()).isEmpty();
    RecordedRequest list = bed.sim.lastRequest();
    assertThat(list.method()).isEqualTo("GET");
    assertThat(list.uri()).isEqualTo("/v1/files");
    assertCarriesTheCredentialsKeyOnly(list, "authorization", "Bearer " + TestBed.OPENAI_KEY);

    byte[] jsonl =
        ("{\"custom_id\":\"1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                + "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[]}}\n")
            .getBytes(StandardCharsets.UTF_8);
    FileObject f =
        openai
            .files()
            .create(FileCreateParams.builder().file(jsonl).purpose(FilePurpose.BATCH).build());
    assertThat(f.id()).startsWith("file-sim-");
    RecordedRequest upload = bed.sim.lastRequest();
    assertThat(upload.header("content-type")).startsWith("multipart/form-data");
    assertThat(bed.sim.storedFile(f.id())).isEqualTo(jsonl); // the whole file went through
    assertCarriesTheCredentialsKeyOnly(upload, "authorization", "Bearer " + TestBed.OPENAI_KEY);

    UsageLedger.Totals t =
        bed.sidecar
            .ledger()
            .snapshot()
            .get(new UsageLedger.Key(PassthroughCall.ROUTE, "files", "openai", ""));
    assertThat(t).isNotNull();
    assertThat(t.requests()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void aLargeDownloadStreamsThroughUnchanged() throws Exception {
    try (HttpResponse r = openai.files().content("file-abc");
        InputStream body = r.body()) {
      byte[] bytes = body.readAllBytes();
      assertThat(bytes).hasSize(1024 * 1024);
      assertThat(bytes[27]).isEqualTo((byte) 'b');
    }
    assertThat(bed.sim.lastRequest().uri()).isEqualTo("/v1/files/file-abc/content");
  }

  @Test
  void storedResponsesAreRetrievedCancelledAndDeletedAtOpenAi() {
    Response got = openai.responses().retrieve("resp_abc");
    assertThat(got.id()).isEqualTo("resp_abc");
    assertThat(bed.sim.lastRequest().method()).isEqualTo("GET");
    assertThat(bed.sim.lastRequest().uri()).isEqualTo("/v1/responses/resp_abc");

    Response cancelled = openai.responses().cancel("resp_abc");
    assertThat(cancelled.status())
        .hasValueSatisfying(s -> assertThat(s.asString()).isEqualTo("cancelled"));
    assertThat(bed.sim.lastRequest().uri()).isEqualTo("/v1/responses/resp_abc/cancel");

    openai.responses().delete("resp_abc");
    assertThat(bed.sim.lastRequest().method()).isEqualTo("DELETE");
    assertCarriesTheCredentialsKeyOnly(
        bed.sim.lastRequest(), "authorization", "Bearer " + TestBed.OPENAI_KEY);
  }

  @Test
  void modelsByIdAnswerRouteAliasesAndPassOtherModelsOn() throws Exception {
    Model alias = openai.models().retrieve("oa");
    assertThat(alias.ownedBy()).isEqualTo("tollgate");
    assertThat(bed.sim.stats().requests()).isZero();

    Model upstream = openai.models().retrieve("gpt-4o");
    assertThat(upstream.ownedBy()).isEqualTo("simulator");

    assertThatThrownBy(() -> openai.models().retrieve("no-such-model"))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("The model 'no-such-model' does not exist");
    JsonNode e = Json.parseOrNull(bed.get("/v1/models/no-such-model").body());
    assertThat(e.at("/error/code").asText()).isEqualTo("model_not_found");
  }

  @Test
  void anthropicBatchesGoToTheAnthropicCredential() {
    assertThat(anthropic.messages().batches().list().data()).isEmpty();
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).startsWith("/v1/messages/batches");
    assertCarriesTheCredentialsKeyOnly(up, "x-api-key", TestBed.ANTHROPIC_KEY);
  }

  @Test
  void aGeneratingCallWithUsageIsPricedAndAFileCallIsNot() throws Exception {
    // Mistral's fill-in-the-middle endpoint is no route: passthrough, priced from its usage
    var r =
        bed.post(
            "/v1/fim/completions",
            "{\"model\":\"codestral-latest\",\"prompt\":\"def add(a, b):\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode usage = Json.parseOrNull(r.body()).path("usage");
    long prompt = usage.path("prompt_tokens").asLong();
    long completion = usage.path("completion_tokens").asLong();
    assertThat(prompt).isPositive();

    UsageLedger.Totals t =
        bed.sidecar
            .ledger()
            .snapshot()
            .get(new UsageLedger.Key(PassthroughCall.ROUTE, "fim", "openai", "codestral-latest"));
    // codestral-latest: $0.30 input and $0.90 output per million tokens
    java.math.BigDecimal expected =
        java.math.BigDecimal.valueOf(prompt * 30 + completion * 90).movePointLeft(8);
    assertThat(t.costUsd()).isEqualByComparingTo(expected);
    assertThat(t.inputTokens()).isEqualTo(prompt);

    // reading a stored object again is never charged again
    openai.responses().retrieve("resp_abc");
    UsageLedger.Totals responses =
        bed.sidecar
            .ledger()
            .snapshot()
            .get(new UsageLedger.Key(PassthroughCall.ROUTE, "responses", "openai", ""));
    assertThat(responses.costUsd()).isZero();
  }

  private static BatchCreateParams.Request item(String id, String model) {
    return BatchCreateParams.Request.builder()
        .customId(id)
        .params(
            BatchCreateParams.Request.Params.builder()
                .model(model)
                .maxTokens(100)
                .addUserMessage("Classify: where is my parcel?")
                .build())
        .build();
  }

  @Test
  void anAnthropicBatchNamesRouteAliasesThatResolveToTheCredentialsModels() {
    MessageBatch batch =
        anthropic
            .messages()
            .batches()
            .create(
                BatchCreateParams.builder()
                    .addRequest(item("1", "an"))
                    .addRequest(item("2", "claude-3-haiku-20240307"))
                    .build());

    assertThat(batch.id()).startsWith("msgbatch_sim_");
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1/messages/batches");
    // the alias is the route's target on the Anthropic credential; a provider id stays
    assertThat(up.body().at("/requests/0/params/model").asText())
        .isEqualTo("claude-3-5-sonnet-20241022");
    assertThat(up.body().at("/requests/1/params/model").asText())
        .isEqualTo("claude-3-haiku-20240307");
    assertCarriesTheCredentialsKeyOnly(up, "x-api-key", TestBed.ANTHROPIC_KEY);
  }

  @Test
  void aBatchsResultsArePricedAtBatchPricesWithPartialFailures() throws Exception {
    bed.sim.batchDelay(java.time.Duration.ofHours(1)); // in progress until the test ends the wait
    BatchCreateParams.Builder params = BatchCreateParams.builder();
    for (int i = 0; i < 8; i++) {
      params.addRequest(item(String.valueOf(i), "an"));
    }
    MessageBatch created = anthropic.messages().batches().create(params.build());
    assertThat(created.processingStatus().asString()).isEqualTo("in_progress");
    bed.sim.batchDelay(java.time.Duration.ZERO);

    MessageBatch ended = created;
    for (int i = 0; i < 100 && !ended.processingStatus().asString().equals("ended"); i++) {
      Thread.sleep(50);
      ended = anthropic.messages().batches().retrieve(created.id());
    }
    assertThat(ended.requestCounts().succeeded()).isEqualTo(6);
    assertThat(ended.requestCounts().errored()).isEqualTo(2);

    // the results, read through the sidecar (with the credential's key) and priced
    var results = bed.get("/v1/messages/batches/" + created.id() + "/results");
    assertThat(results.statusCode()).isEqualTo(200);
    dev.tollgate.sidecar.config.batch.BatchResults.Summary s =
        dev.tollgate.sidecar.config.batch.BatchResults.price(
            new java.io.StringReader(results.body()),
            bed.sidecar.context().config().current().credential("anthropic").orElseThrow(),
            bed.sidecar.context().costs().catalogue());
    assertThat(s.succeeded()).isEqualTo(6);
    assertThat(s.failed()).isEqualTo(2);
    // six items of Sonnet 3.5 in a batch: (100 × $1.50 + 20 × $7.50) per million each
    assertThat(s.costUsd()).isEqualByComparingTo("0.0018");
    assertThat(s.byModel()).containsOnlyKeys("claude-3-5-sonnet-20241022");
    assertThat(s.byModel().get("claude-3-5-sonnet-20241022").items()).isEqualTo(6);

    // the sidecar hands the accepted batch to its next usage report, for the operator to meter
    assertThat(bed.sidecar.ledger().batches().drain())
        .filteredOn(b -> b.id().equals(created.id()))
        .singleElement()
        .satisfies(
            b -> {
              assertThat(b.credential()).isEqualTo("anthropic");
              assertThat(b.items()).isEqualTo(8);
              assertThat(b.routes())
                  .extracting(dev.tollgate.sidecar.config.report.UsageReport.BatchRoute::model)
                  .containsExactly("claude-3-5-sonnet-20241022");
            });
  }

  @Test
  void aBatchItemWhoseRouteHasNoTargetAtTheBatchsProviderIsRefused() {
    // "oa" runs on OpenAI: a batch at Anthropic cannot serve it, and cannot fail over
    assertThatThrownBy(
            () ->
                anthropic
                    .messages()
                    .batches()
                    .create(BatchCreateParams.builder().addRequest(item("1", "oa")).build()))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("route 'oa' has no target on credential 'anthropic'");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void theProvidersOwnErrorsComeBackUnchanged() throws Exception {
    var r = bed.get("/v1/no/such/thing");
    assertThat(r.statusCode()).isEqualTo(404);
    JsonNode e = Json.parseOrNull(r.body());
    assertThat(e.at("/error/message").asText()).isEqualTo("Invalid URL (GET /v1/no/such/thing)");
    assertThat(r.headers().firstValue("x-tollgate-credential")).hasValue("openai");
  }
}
