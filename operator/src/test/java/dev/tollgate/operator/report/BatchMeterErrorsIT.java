package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.batch.BatchMeter;
import dev.tollgate.operator.batch.OpenBatches;
import dev.tollgate.operator.batch.ProviderBatches;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.config.batch.BatchResults;
import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the batch meter does when a batch cannot simply be metered: the provider refuses the key
 * (the batch stays open, its estimate held, an Event says why), the batch is gone (404: the hold is
 * released, an Event, nothing counted), and results with canceled, expired and unreadable lines
 * (only succeeded items are paid; an Event counts the unreadable ones). The provider is a fake
 * {@link ProviderBatches} whose answers the test sets; the results are priced by the real {@link
 * BatchResults}.
 */
@EnableKubernetesMockClient(crud = true)
class BatchMeterErrorsIT {
  static KubernetesClient client;
  static ReportingCluster cluster;
  private static final String MODEL = "claude-3-5-haiku-20241022";
  private static final Map<String, java.util.function.Supplier<ProviderBatches.Poll>> ANSWERS =
      new ConcurrentHashMap<>();

  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "batch-errors-it");
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void refusedGoneAndPartlyUnreadableBatchesEachSayWhatHappened() throws Exception {
    String ns = "batch-errors";
    cluster.anthropicNamespace(ns, MODEL, "10.00", dir);

    ProviderBatches fake =
        (c, key, id, prices) -> {
          // the key is the Secret's value, read by the operator
          assertThat(key).isEqualTo(Fixtures.API_KEY_VALUE);
          return ANSWERS.get(id).get();
        };
    ReportChannel channel =
        cluster.batchChannel(
            0,
            new BatchMeter.Settings(
                Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofDays(7), fake));
    try {
      ANSWERS.put(
          "refused",
          () ->
              new ProviderBatches.Failed(
                  "ProviderRefusedKey", "Anthropic answered 401 to the credential's key", true));
      ANSWERS.put("gone", () -> new ProviderBatches.Gone("Anthropic answered 404 for batch gone"));
      String jsonl =
          succeeded("a")
              + "{\"custom_id\":\"b\",\"result\":{\"type\":\"canceled\"}}\n"
              + "{\"custom_id\":\"c\",\"result\":{\"type\":\"expired\"}}\n"
              + "{\"custom_id\":\"d\",\"result\":{\"type\":\"errored\",\"error\":{}}}\n"
              + "not json at all\n"
              + "{\"custom_id\":\"e\",\"result\":{\"type\":\"succeeded\",\"message\":{\"model\":\""
              + MODEL
              + "\",\"usage\":{\"input_tokens\":-5,\"output_tokens\":1}}}}\n";
      ANSWERS.put(
          "mixed",
          () -> {
            try {
              var cfg =
                  dev.tollgate.sidecar.config.SidecarConfigCodec.read(
                      cluster.operator.renderedConfigs().get(ns).orElseThrow().text());
              return new ProviderBatches.Ended(
                  BatchResults.price(
                      new StringReader(jsonl),
                      cfg.credential("anthropic").orElseThrow(),
                      dev.tollgate.sidecar.config.PriceCatalogue.builtIn()));
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
      channel
          .batches()
          .record(ns, "app-0", List.of(batch("refused"), batch("gone"), batch("mixed")));
      // recorded twice (a resent report): still one each
      channel.batches().record(ns, "app-0", List.of(batch("refused")));
      OpenBatches books = new OpenBatches(client, ConfigMapLedgerStore.DEFAULT_OPERATOR_NAMESPACE);

      await()
          .untilAsserted(
              () -> {
                OpenBatches.Book book = books.read(ns);
                assertThat(book.open).containsOnlyKeys("refused");
                assertThat(book.open.get("refused").lastError).startsWith("ProviderRefusedKey");
                assertThat(book.open.get("refused").failures).isPositive();
                assertThat(book.done.get("gone")).startsWith("gone ");
                assertThat(book.done.get("mixed")).startsWith("metered ");
              });
      // the refused batch still holds its estimate; the gone one does not
      assertThat(channel.batches().held(ns)).containsOnlyKeys("monthly");
      assertThat(channel.batches().held(ns).get("monthly")).isEqualByComparingTo("0.002");
      // one succeeded item of 100 + 20 tokens at half of $1 / $5 per million; the canceled,
      // expired and errored items cost nothing, the two unreadable lines are not counted
      await()
          .untilAsserted(
              () -> {
                SpendLedger.BudgetSpend s =
                    ConfigMapLedgerStore.read(client, ns).budgets.get("monthly");
                assertThat(s).isNotNull();
                assertThat(new BigDecimal(s.batchSpent)).isEqualByComparingTo("0.0001");
              });
      await()
          .untilAsserted(
              () ->
                  assertThat(cluster.eventReasons(ns))
                      .contains(
                          "BatchPollFailed",
                          "BatchGone",
                          "BatchMetered",
                          "BatchResultsUnreadable"));
      assertThat(cluster.eventMessages(ns, "BatchResultsUnreadable"))
          .anyMatch(m -> m.contains("2 result lines could not be read"));
      assertThat(cluster.eventMessages(ns, "BatchMetered"))
          .anyMatch(m -> m.contains("1 items succeeded, 3 errored, canceled or expired"));
      // the Budget says so too: a condition names the failing batch's reason
      await()
          .untilAsserted(
              () -> {
                Budget b = client.resources(Budget.class).inNamespace(ns).withName("monthly").get();
                var c =
                    dev.tollgate.api.status.Conditions.find(
                            b.getStatus().getConditions(),
                            dev.tollgate.api.status.Conditions.BATCHES_METERED)
                        .orElseThrow();
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("ProviderRefusedKey");
                assertThat(c.getMessage())
                    .contains("batch refused")
                    .doesNotContain(Fixtures.API_KEY_VALUE);
              });
      // no Event or status carries the key
      assertThat(client.v1().events().inNamespace(ns).list().getItems())
          .noneMatch(e -> e.getMessage().contains(Fixtures.API_KEY_VALUE));
    } finally {
      channel.close();
    }
  }

  private static String succeeded(String id) {
    return "{\"custom_id\":\""
        + id
        + "\",\"result\":{\"type\":\"succeeded\",\"message\":{\"model\":\""
        + MODEL
        + "\",\"usage\":{\"input_tokens\":100,\"output_tokens\":20}}}}\n";
  }

  private static UsageReport.AdmittedBatch batch(String id) {
    return new UsageReport.AdmittedBatch(
        id,
        "anthropic",
        UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES,
        4,
        Map.of("monthly", "0.002"),
        List.of(new UsageReport.BatchRoute("support", MODEL, "monthly")));
  }
}
