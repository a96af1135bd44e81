package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.errors.RateLimitException;
import com.anthropic.models.messages.batches.BatchCreateParams;
import com.anthropic.models.messages.batches.MessageBatch;
import dev.tollgate.operator.batch.BatchMeter;
import dev.tollgate.operator.batch.OpenBatches;
import dev.tollgate.operator.ledger.Accounting;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #21's "done when": an Anthropic Message Batch submitted with the official SDK through a
 * sidecar is admitted against its Budget (and a second one refused under Block while the first
 * one's estimate is held), the sidecar's pod and the operator both restart before the batch ends,
 * and the operator meters the results exactly once at batch price: its own poll, the simulator's
 * partial failures (every fourth item errored), a replay of the apply, and later rounds included.
 */
@EnableKubernetesMockClient(crud = true)
class BatchMeteringIT {
  static KubernetesClient client;
  static ReportingCluster cluster;
  static ProviderSimulator sim;

  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "batch-metering-it");
    sim = cluster.sim;
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static final String MODEL = "claude-3-5-haiku-20241022";

  private ReportChannel channel(int port) throws Exception {
    return cluster.batchChannel(port, BatchMeter.Settings.every(Duration.ofMillis(200)));
  }

  @Test
  void aBatchIsMeteredOnceAtBatchPriceAfterThePodAndTheOperatorRestart() throws Exception {
    String ns = "batches";
    sim.reset();
    sim.behavior(SimulatorBehavior.defaults().withUsage(100, 20, 0, 0));
    sim.batchDelay(Duration.ofSeconds(4));
    cluster.anthropicNamespace(ns, MODEL, "0.004", dir);

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
    AnthropicClient anthropic =
        AnthropicOkHttpClient.builder()
            .baseUrl(sidecar.baseUrl())
            .apiKey("app-key")
            .maxRetries(0)
            .build();
    OpenBatches books = new OpenBatches(client, ConfigMapLedgerStore.DEFAULT_OPERATOR_NAMESPACE);
    MessageBatch batch;
    OpenBatches.Open open;
    try {
      // one ordinary call first: $1 × 100 + $5 × 20 per million = 0.0002, and the operator's first
      // reply, which admission waits for
      anthropic
          .messages()
          .create(
              com.anthropic.models.messages.MessageCreateParams.builder()
                  .model("support")
                  .maxTokens(20)
                  .addUserMessage("hi")
                  .build());
      await().until(() -> spent(ns) != null && new BigDecimal(spent(ns)).signum() > 0);

      // eight items of 100 max_tokens: estimated at about 8 × 100 × $2.50 per million = 0.002
      batch = anthropic.messages().batches().create(items(8));
      assertThat(batch.processingStatus().asString()).isEqualTo("in_progress");
      String id = batch.id();
      await().until(() -> books.read(ns).open.containsKey(id));
      open = books.read(ns).open.get(id);
      assertThat(open.credential).isEqualTo("anthropic");
      assertThat(open.items).isEqualTo(8);
      assertThat(open.routes)
          .singleElement()
          .satisfies(r -> assertThat(r.model()).isEqualTo(MODEL));
      BigDecimal estimate = new BigDecimal(open.estimates.get("monthly"));
      assertThat(estimate).isGreaterThan(new BigDecimal("0.002"));

      // the first batch's estimate is held: a second one does not fit what is left under Block
      assertThatThrownBy(() -> anthropic.messages().batches().create(items(8)))
          .isInstanceOf(RateLimitException.class)
          .hasMessageContaining("this batch is estimated at");
    } finally {
      anthropic.close();
    }
    String id = batch.id();

    // the pod goes away before the batch ends, and the operator restarts
    sidecar.close();
    channel.close();
    channel = channel(port);
    try {
      // 6 of 8 items succeed (every fourth errors): 6 × (100 × $0.50 + 20 × $2.50) per million
      await().atMost(Duration.ofSeconds(30)).until(() -> "0.0008".equals(spent(ns)));
      SpendLedger.BudgetSpend spend = ledger(ns).budgets.get("monthly");
      assertThat(new BigDecimal(spend.batchSpent)).isEqualByComparingTo("0.0006");
      assertThat(spend.byModel).containsKey("anthropic/" + MODEL + Accounting.BATCH_MARK);
      assertThat(spend.byModel.get("anthropic/" + MODEL + Accounting.BATCH_MARK).requests)
          .isEqualTo(6);
      // Budget status: batch spend on its own, its model marked, and the gauge
      cluster.awaitBatchStatus(ns, "0.0008", "0.0006", "anthropic/" + MODEL);
      await().until(() -> books.read(ns).open.isEmpty());
      assertThat(books.read(ns).done.get(id)).startsWith("metered ");
      assertThat(channel.batches().held(ns)).isEmpty();

      // a crash between the apply and the close: the batch is open again, is applied again, and
      // the ledger's watermark counts it once
      ReportingCluster.replayMetered(books, ns, id, open);
      assertThat(ledger(ns).budgets.get("monthly").spent).isEqualTo("0.0008");
      assertThat(new BigDecimal(ledger(ns).budgets.get("monthly").batchSpent))
          .isEqualByComparingTo("0.0006");
    } finally {
      channel.close();
    }
  }

  private static BatchCreateParams items(int n) {
    BatchCreateParams.Builder params = BatchCreateParams.builder();
    for (int i = 0; i < n; i++) {
      params.addRequest(
          BatchCreateParams.Request.builder()
              .customId("item-" + i)
              .params(
                  BatchCreateParams.Request.Params.builder()
                      .model("support")
                      .maxTokens(100)
                      .addUserMessage("Classify: where is my parcel?")
                      .build())
              .build());
    }
    return params.build();
  }

  private static SpendLedger ledger(String ns) {
    return ConfigMapLedgerStore.read(client, ns);
  }

  private static String spent(String ns) {
    SpendLedger.BudgetSpend s = ledger(ns).budgets.get("monthly");
    return s == null ? null : new BigDecimal(s.spent).stripTrailingZeros().toPlainString();
  }
}
