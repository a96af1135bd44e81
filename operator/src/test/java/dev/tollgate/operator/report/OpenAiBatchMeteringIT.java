package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.batch.BatchMeter;
import dev.tollgate.operator.batch.OpenAiStub;
import dev.tollgate.operator.batch.OpenBatches;
import dev.tollgate.operator.ledger.Accounting;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #21 for OpenAI batches: a sidecar's report names six batches it submitted to OpenAI ({@code
 * api: openai-batch}); their estimates are held at once (the reply's {@code percentUsed} shows
 * them); the operator restarts while they run; then each ends as OpenAI ends batches and is metered
 * once at the batch price: a completed one from its output file (its error file only counted), an
 * expired and a cancelled one for the requests that completed before, a {@code failed} one at
 * nothing, a 404 one released with {@code BatchGone}, and one whose output file the app deleted
 * charged from its estimate for the requests OpenAI counts as completed. A resent report and a
 * replayed apply count nothing twice. OpenAI is a loopback stand-in ({@link OpenAiStub}) with the
 * API reference's shapes; gpt-4o is pinned at $5 / $15 per million by the credential.
 */
@EnableKubernetesMockClient(crud = true)
class OpenAiBatchMeteringIT {
  static KubernetesClient client;
  static ReportingCluster cluster;
  static OpenAiStub openai;

  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "openai-batch-metering-it");
    openai = OpenAiStub.start();
  }

  @AfterAll
  static void stop() {
    openai.close();
    cluster.close();
  }

  private ReportChannel channel(int port) throws Exception {
    return cluster.batchChannel(port, BatchMeter.Settings.every(Duration.ofMillis(200)));
  }

  private static final List<String> IDS =
      List.of(
          "batch_completed",
          "batch_expired",
          "batch_cancelled",
          "batch_failed",
          "batch_gone",
          "batch_deleted");

  @Test
  void openAiBatchesAreMeteredOnceAtBatchPriceAcrossAnOperatorRestart() throws Exception {
    String ns = "openai-batches";
    ProviderCredential credential = cluster.simulatedCredential(ns);
    credential.getSpec().setEndpoint(openai.base() + "/v1");
    MockApi.apply(client, credential);
    Budget budget = Fixtures.budget(ns, "monthly", "1.00");
    budget.getSpec().setOnExceeded(BudgetSpec.ExceededAction.BLOCK);
    MockApi.apply(client, budget);
    MockApi.apply(
        client,
        Fixtures.withBudget(
            Fixtures.route(ns, "support", "support", Fixtures.tier("main", "openai", "gpt-4o")),
            "monthly"));
    cluster.mountConfig(ns, "monthly", dir);
    for (String id : IDS) {
      openai.answer("/v1/batches/" + id, 200, OpenAiStub.batch(id, "in_progress", null, null));
    }

    ReportChannel channel = channel(0);
    int port = channel.port();
    OpenBatches books = new OpenBatches(client, ConfigMapLedgerStore.DEFAULT_OPERATOR_NAMESPACE);
    UsageReport report = report(ns, IDS, 4, "0.05");
    try {
      HttpResponse<String> r = post(port, report);
      assertThat(r.statusCode()).isEqualTo(200);
      // six estimates of $0.05 held against a $1.00 budget: the sidecar is told 30% is used
      ReportReply reply = ReportServer.JSON.readValue(r.body(), ReportReply.class);
      assertThat(reply.budgets())
          .anySatisfy(
              b -> {
                assertThat(b.name()).isEqualTo("monthly");
                assertThat(new BigDecimal(b.percentUsed())).isEqualByComparingTo("30");
              });
      assertThat(books.read(ns).open).containsOnlyKeys(IDS);
      assertThat(books.read(ns).open.get("batch_completed").api)
          .isEqualTo(UsageReport.AdmittedBatch.OPENAI_BATCH);
      // the operator asks OpenAI with the credential's key, and the batches keep running
      await()
          .until(
              () ->
                  openai.seen().stream()
                      .anyMatch(
                          s ->
                              s.startsWith(
                                  "GET /v1/batches/batch_completed Bearer "
                                      + Fixtures.API_KEY_VALUE)));
      assertThat(channel.batches().held(ns).get("monthly")).isEqualByComparingTo("0.30");
    } finally {
      channel.close();
    }

    // while the operator is away, the batches end
    openai.answer(
        "/v1/batches/batch_completed",
        200,
        OpenAiStub.batch("batch_completed", "completed", "file-out1", "file-err1"));
    openai.answer("/v1/files/file-out1/content", 200, OpenAiStub.OK_LINE + OpenAiStub.OK_LINE);
    openai.answer(
        "/v1/files/file-err1/content",
        200,
        OpenAiStub.EXPIRED_LINE.replace("batch_expired", "request_timeout"));
    for (String end : List.of("expired", "cancelled")) {
      openai.answer(
          "/v1/batches/batch_" + end,
          200,
          OpenAiStub.batch("batch_" + end, end, "file-out-" + end, null));
      openai.answer(
          "/v1/files/file-out-" + end + "/content",
          200,
          OpenAiStub.OK_LINE
              + OpenAiStub.EXPIRED_LINE.replace("batch_expired", "batch_" + end)
              + OpenAiStub.EXPIRED_LINE.replace("batch_expired", "batch_" + end));
    }
    openai.answer(
        "/v1/batches/batch_failed", 200, OpenAiStub.batch("batch_failed", "failed", null, null));
    openai.forget("/v1/batches/batch_gone");
    openai.answer(
        "/v1/batches/batch_deleted",
        200,
        OpenAiStub.batch("batch_deleted", "completed", "file-deleted", null));

    channel = channel(port);
    try {
      // completed: 2 × (1,000 × $2.50 + 500 × $7.50) per million; expired and cancelled: one
      // completed request each; failed and gone: nothing
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                OpenBatches.Book book = books.read(ns);
                assertThat(book.open).isEmpty();
                assertThat(book.done.get("batch_deleted")).startsWith("estimated ");
                assertThat(book.done.get("batch_gone")).startsWith("gone ");
                for (String id :
                    List.of(
                        "batch_completed", "batch_expired", "batch_cancelled", "batch_failed")) {
                  assertThat(book.done.get(id)).as(id).startsWith("metered ");
                }
              });
      SpendLedger.BudgetSpend spend = ledger(ns).budgets.get("monthly");
      // the deleted output file: 2 of 4 requests completed, half of its $0.05 estimate
      assertThat(new BigDecimal(spend.spent)).isEqualByComparingTo("0.05");
      assertThat(new BigDecimal(spend.batchSpent)).isEqualByComparingTo("0.05");
      assertThat(spend.byModel.get("openai/gpt-4o" + Accounting.BATCH_MARK).requests).isEqualTo(6);
      assertThat(channel.batches().held(ns)).isEmpty();
      await()
          .untilAsserted(
              () -> {
                Budget b = client.resources(Budget.class).inNamespace(ns).withName("monthly").get();
                assertThat(new BigDecimal(b.getStatus().getSpent())).isEqualByComparingTo("0.05");
                assertThat(new BigDecimal(b.getStatus().getBatchSpent()))
                    .isEqualByComparingTo("0.05");
                assertThat(b.getStatus().getByModel())
                    .anySatisfy(m -> assertThat(m.getName()).isEqualTo("openai/gpt-4o (batch)"));
                assertThat(cluster.batchGauge(ns)).isEqualTo(0.05);
                var c =
                    Conditions.find(b.getStatus().getConditions(), Conditions.BATCHES_METERED)
                        .orElseThrow();
                assertThat(c.getStatus()).isEqualTo("True");
                assertThat(c.getReason()).isEqualTo("NoneOpen");
                assertThat(c.getMessage()).contains("released as its Event");
              });
      await()
          .untilAsserted(
              () ->
                  assertThat(cluster.eventReasons(ns))
                      .contains("BatchMetered", "BatchGone", "BatchChargedFromEstimate"));
      assertThat(cluster.eventMessages(ns, "BatchMetered"))
          .anyMatch(
              m ->
                  m.contains("batch batch_completed ended: 2 items succeeded, 1 errored")
                      && m.contains("0.01250 USD"))
          .anyMatch(m -> m.contains("batch batch_failed ended: 0 items succeeded"));
      assertThat(cluster.eventMessages(ns, "BatchGone")).anyMatch(m -> m.contains("batch_gone"));
      assertThat(cluster.eventMessages(ns, "BatchChargedFromEstimate"))
          .anyMatch(m -> m.contains("batch_deleted is charged 0.025 USD") && m.contains("2 of 4"));
      assertThat(client.v1().events().inNamespace(ns).list().getItems())
          .noneMatch(e -> e.getMessage().contains(Fixtures.API_KEY_VALUE));

      // the same report resent, and a crash between an apply and its close: nothing twice
      assertThat(post(port, report).statusCode()).isEqualTo(200);
      OpenBatches.Open again = new OpenBatches.Open();
      again.credential = "openai";
      again.api = UsageReport.AdmittedBatch.OPENAI_BATCH;
      again.items = 4;
      again.estimates = new java.util.TreeMap<>(Map.of("monthly", "0.05"));
      again.routes = List.of(new UsageReport.BatchRoute("support", "gpt-4o", "monthly"));
      again.admittedAt = Instant.now().toString();
      again.nextPollAt = Instant.now().toString();
      books.update(
          ns,
          b -> {
            b.done.remove("batch_completed");
            b.open.put("batch_completed", again);
            return b;
          });
      await().until(() -> books.read(ns).done.containsKey("batch_completed"));
      Thread.sleep(1_000);
      assertThat(books.read(ns).open).isEmpty();
      assertThat(new BigDecimal(ledger(ns).budgets.get("monthly").batchSpent))
          .isEqualByComparingTo("0.05");
    } finally {
      channel.close();
    }
  }

  /**
   * With the simulator's OpenAI Files and Batches: a batch created with the official OpenAI SDK
   * (the JSONL uploaded with {@code purpose=batch}, then {@code POST /v1/batches}) and reported by
   * its id is metered from the output file the simulator writes once it completes: 6 of 8 items
   * succeed (every fourth fails with a 500, in the error file), each 100 prompt and 20 completion
   * tokens of gpt-4o at half of $5 / $15 per million.
   */
  @Test
  void aBatchCreatedWithTheOfficialSdkIsMeteredFromTheSimulatorsOutputFile() throws Exception {
    String ns = "openai-sdk-batches";
    MockApi.apply(client, cluster.simulatedCredential(ns));
    MockApi.apply(client, Fixtures.budget(ns, "monthly", "1.00"));
    MockApi.apply(
        client,
        Fixtures.withBudget(
            Fixtures.route(ns, "support", "support", Fixtures.tier("main", "openai", "gpt-4o")),
            "monthly"));
    cluster.mountConfig(ns, "monthly", dir);
    cluster.sim.reset();
    cluster.sim.batchDelay(Duration.ofSeconds(8));

    StringBuilder jsonl = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      jsonl.append(
          "{\"custom_id\":\"item-"
              + i
              + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":"
              + "\"gpt-4o\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":"
              + "\"Classify: where is my parcel?\"}]}}\n");
    }
    Path input = java.nio.file.Files.writeString(dir.resolve("in.jsonl"), jsonl);
    com.openai.client.OpenAIClient sdk =
        com.openai.client.okhttp.OpenAIOkHttpClient.builder()
            .baseUrl(cluster.sim.baseUrl() + "/v1")
            .apiKey("sk-app")
            .maxRetries(0)
            .build();
    String id;
    try {
      com.openai.models.files.FileObject file =
          sdk.files()
              .create(
                  com.openai.models.files.FileCreateParams.builder()
                      .file(input)
                      .purpose(com.openai.models.files.FilePurpose.BATCH)
                      .build());
      com.openai.models.batches.Batch batch =
          sdk.batches()
              .create(
                  com.openai.models.batches.BatchCreateParams.builder()
                      .inputFileId(file.id())
                      .endpoint(
                          com.openai.models.batches.BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                      .completionWindow(
                          com.openai.models.batches.BatchCreateParams.CompletionWindow._24H)
                      .build());
      id = batch.id();
    } finally {
      sdk.close();
    }

    ReportChannel channel = channel(0);
    try {
      UsageReport report = report(ns, List.of(id), 8, "0.0100");
      assertThat(post(channel.port(), report).statusCode()).isEqualTo(200);
      assertThat(channel.batches().held(ns).get("monthly")).isEqualByComparingTo("0.01");
      // 6 × (100 × $2.50 + 20 × $7.50) per million
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                SpendLedger.BudgetSpend s = ledger(ns).budgets.get("monthly");
                assertThat(s).isNotNull();
                assertThat(s.batchSpent).isNotNull();
                assertThat(new BigDecimal(s.batchSpent)).isEqualByComparingTo("0.0024");
              });
      OpenBatches books = new OpenBatches(client, ConfigMapLedgerStore.DEFAULT_OPERATOR_NAMESPACE);
      await().until(() -> books.read(ns).open.isEmpty());
      assertThat(channel.batches().held(ns)).isEmpty();
      await()
          .untilAsserted(
              () ->
                  assertThat(cluster.eventMessages(ns, "BatchMetered"))
                      .anyMatch(
                          m ->
                              m.contains(
                                  "batch "
                                      + id
                                      + " ended: 6 items succeeded, 2 errored, canceled or"
                                      + " expired")));
    } finally {
      channel.close();
    }
  }

  /** A sidecar's report naming OpenAI batches {@code ids} of route support on gpt-4o. */
  private static UsageReport report(String ns, List<String> ids, long items, String estimate) {
    List<UsageReport.AdmittedBatch> batches = new ArrayList<>();
    for (String id : ids) {
      batches.add(
          new UsageReport.AdmittedBatch(
              id,
              "openai",
              UsageReport.AdmittedBatch.OPENAI_BATCH,
              items,
              Map.of("monthly", estimate),
              List.of(new UsageReport.BatchRoute("support", "gpt-4o", "monthly"))));
    }
    return UsageReport.builder(ns, "app-0", "uid-app-0", "boot-1", 1, null)
        .batches(batches)
        .build();
  }

  private static HttpResponse<String> post(int port, UsageReport report) throws Exception {
    return cluster
        .https()
        .send(
            HttpRequest.newBuilder(URI.create("https://localhost:" + port + ReportServer.PATH))
                .timeout(Duration.ofSeconds(20))
                .header(
                    "Authorization",
                    "Bearer " + FakeTokenReviewer.token(report.namespace(), "app-0", "uid-app-0"))
                .POST(
                    HttpRequest.BodyPublishers.ofByteArray(
                        ReportServer.JSON.writeValueAsBytes(report)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static SpendLedger ledger(String ns) {
    return ConfigMapLedgerStore.read(client, ns);
  }
}
