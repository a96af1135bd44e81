package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.RateLimitException;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import dev.tollgate.operator.batch.BatchMeter;
import dev.tollgate.operator.batch.OpenBatches;
import dev.tollgate.operator.ledger.Accounting;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #21's "done when" for OpenAI, the twin of {@link BatchMeteringIT}: with the official OpenAI
 * SDK through a sidecar, a JSONL naming the route alias is uploaded ({@code purpose=batch}) and
 * reaches the simulator with the route's model; the batch is admitted against its Budget and held
 * by the operator, and a second one is refused (429 in OpenAI's format) under Block while the first
 * one's estimate is held; the sidecar's pod goes away and the operator restarts before the batch
 * ends; the operator then meters it once from its output file at the batch price (every fourth item
 * errored), and a replayed apply counts nothing twice. gpt-4o is pinned at $5 / $15 per million by
 * the credential, so batch prices are $2.50 / $7.50.
 */
@EnableKubernetesMockClient(crud = true)
class OpenAiBatchEndToEndIT {
  static KubernetesClient client;
  static ReportingCluster cluster;
  static ProviderSimulator sim;

  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "openai-batch-e2e-it");
    sim = cluster.sim;
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private ReportChannel channel(int port) throws Exception {
    return cluster.batchChannel(port, BatchMeter.Settings.every(Duration.ofMillis(200)));
  }

  @Test
  void anOpenAiBatchIsMeteredOnceAtBatchPriceAfterThePodAndTheOperatorRestart() throws Exception {
    String ns = "openai-batch-e2e";
    sim.reset();
    sim.behavior(SimulatorBehavior.defaults().withUsage(100, 20, 0, 0));
    // long enough that the batch is still running when the operator restarts (checked below)
    sim.batchDelay(Duration.ofSeconds(8));
    cluster.openAiNamespace(ns, "0.010", dir);

    ReportChannel channel = channel(0);
    int port = channel.port();
    Path spool = Files.createDirectories(dir.resolve("spool"));
    Sidecar sidecar =
        Sidecar.start(
            dir.resolve("config.yaml"),
            0,
            1,
            Duration.ofMillis(200),
            cluster.reporting(dir, ns, "app-0", "uid-app-0", port),
            spool,
            dir.resolve("secrets"));
    // as sidecar-proxy's SdkClients: the sidecar's base URL + /v1, any key, no retries
    OpenAIClient openai =
        OpenAIOkHttpClient.builder()
            .baseUrl(sidecar.baseUrl() + "/v1")
            .apiKey("app-key")
            .maxRetries(0)
            .build();
    OpenBatches books = new OpenBatches(client, ConfigMapLedgerStore.DEFAULT_OPERATOR_NAMESPACE);
    String id;
    OpenBatches.Open open;
    BigDecimal estimate;
    try {
      // one ordinary call first: $5 × 100 + $15 × 20 per million = 0.0008, and the operator's
      // first reply, which admission waits for
      openai
          .chat()
          .completions()
          .create(
              ChatCompletionCreateParams.builder()
                  .model("support")
                  .maxCompletionTokens(20)
                  .addUserMessage("hi")
                  .build());
      await().until(() -> "0.0008".equals(spent(ns)));

      FileObject file = upload(openai, jsonl(8));
      String stored = new String(sim.storedFile(file.id()), StandardCharsets.UTF_8);
      assertThat(stored).contains("\"model\":\"gpt-4o\"").doesNotContain("\"model\":\"support\"");
      assertThat(stored.lines()).hasSize(8);

      // eight items of 100 max_tokens: about 8 × (26 × $2.50 + 100 × $7.50) per million = 0.0065
      Batch batch = create(openai, file.id());
      id = batch.id();
      await().until(() -> books.read(ns).open.containsKey(id));
      open = books.read(ns).open.get(id);
      assertThat(open.api).isEqualTo(UsageReport.AdmittedBatch.OPENAI_BATCH);
      assertThat(open.credential).isEqualTo("openai");
      assertThat(open.items).isEqualTo(8);
      assertThat(open.routes)
          .containsExactly(new UsageReport.BatchRoute("support", "gpt-4o", "monthly"));
      estimate = new BigDecimal(open.estimates.get("monthly"));
      assertThat(estimate).isBetween(new BigDecimal("0.006"), new BigDecimal("0.007"));
      assertThat(channel.batches().held(ns).get("monthly")).isEqualByComparingTo(estimate);

      // the first batch's estimate is held: once the sidecar has the operator's reply saying so,
      // a second batch does not fit what is left of $0.010 under Block
      await()
          .until(
              () ->
                  sidecar
                          .context()
                          .budgetGate()
                          .admitsBatch(sidecar.config().current(), "monthly", estimate)
                      != null);
      assertThatThrownBy(() -> create(openai, file.id()))
          .isInstanceOfSatisfying(
              RateLimitException.class,
              e -> {
                assertThat(e.statusCode()).isEqualTo(429);
                assertThat(e.type()).contains("insufficient_quota");
              })
          .hasMessageContaining("budget monthly")
          .hasMessageContaining("this batch is estimated at");
      // it never reached OpenAI: the provider lists the first batch only
      assertThat(openai.batches().list().data()).extracting(Batch::id).containsExactly(id);
    } finally {
      openai.close();
    }

    // the pod goes away before the batch ends, and the operator restarts
    sidecar.close();
    channel.close();
    assertThat(books.read(ns).open).containsKey(id); // not metered before the restart
    channel = channel(port);
    try {
      // the restarted operator holds the running batch's estimate from its books
      assertThat(channel.batches().held(ns).get("monthly")).isEqualByComparingTo(estimate);
      // 6 of 8 items succeed (every fourth errors): 6 × (100 × $2.50 + 20 × $7.50) per million
      await().atMost(Duration.ofSeconds(30)).until(() -> "0.0032".equals(spent(ns)));
      SpendLedger.BudgetSpend spend = ledger(ns).budgets.get("monthly");
      assertThat(new BigDecimal(spend.batchSpent)).isEqualByComparingTo("0.0024");
      String marked = "openai/gpt-4o" + Accounting.BATCH_MARK;
      assertThat(spend.byModel).containsKey(marked);
      assertThat(spend.byModel.get(marked).requests).isEqualTo(6);
      cluster.awaitBatchStatus(ns, "0.0032", "0.0024", "openai/gpt-4o");
      await().until(() -> books.read(ns).open.isEmpty());
      assertThat(books.read(ns).done.get(id)).startsWith("metered ");
      assertThat(channel.batches().held(ns)).isEmpty();

      // a crash between the apply and the close: the batch is open again, is applied again, and
      // the ledger's watermark counts it once
      ReportingCluster.replayMetered(books, ns, id, open);
      assertThat(books.read(ns).open).isEmpty();
      assertThat(ledger(ns).budgets.get("monthly").spent).isEqualTo("0.0032");
      assertThat(new BigDecimal(ledger(ns).budgets.get("monthly").batchSpent))
          .isEqualByComparingTo("0.0024");
    } finally {
      channel.close();
    }
  }

  /** {@code n} chat-completion lines naming the route alias {@code support}. */
  private static String jsonl(int n) {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < n; i++) {
      lines.append(
          "{\"custom_id\":\"item-"
              + i
              + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":"
              + "\"support\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":"
              + "\"Classify: where is my parcel?\"}]}}\n");
    }
    return lines.toString();
  }

  private static FileObject upload(OpenAIClient openai, String jsonl) {
    return openai
        .files()
        .create(
            FileCreateParams.builder()
                .file(jsonl.getBytes(StandardCharsets.UTF_8))
                .purpose(FilePurpose.BATCH)
                .build());
  }

  private static Batch create(OpenAIClient openai, String fileId) {
    return openai
        .batches()
        .create(
            BatchCreateParams.builder()
                .inputFileId(fileId)
                .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                .completionWindow(BatchCreateParams.CompletionWindow._24H)
                .build());
  }

  private static SpendLedger ledger(String ns) {
    return ConfigMapLedgerStore.read(client, ns);
  }

  private static String spent(String ns) {
    SpendLedger.BudgetSpend s = ledger(ns).budgets.get("monthly");
    return s == null ? null : new BigDecimal(s.spent).stripTrailingZeros().toPlainString();
  }
}
