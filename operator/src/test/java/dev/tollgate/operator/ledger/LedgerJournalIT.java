package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Group commit through the journal: a report is acknowledged once its batch is stored, before the
 * ledger object is rewritten; a new leader (or a writer that lost a race) replays the journal, so
 * every acknowledged report counts exactly once.
 */
@EnableKubernetesMockClient(crud = true)
class LedgerJournalIT {
  static KubernetesClient client;

  private static final String OPS = "tollgate-system";

  private static UsageReport report(String ns, String pod, long seq, String cost) {
    return new UsageReport(
        ns,
        pod,
        "uid-" + pod,
        "boot",
        seq,
        "v1",
        List.of(
            new UsageReport.Line(
                "chat", "main", "openai", "gpt-4o", "monthly", 1, 10, 5, 0, 0, cost, 0, Map.of())));
  }

  private static Accounting.BudgetDirectory budgets(String ns) {
    Budget b = Fixtures.budget(ns, "monthly", "1000");
    b.getSpec().setOnExceeded(BudgetSpec.ExceededAction.BLOCK);
    return namespace -> List.of(b);
  }

  private static Accounting accounting(String ns, Duration flushInterval) {
    return new Accounting(
        new ConfigMapLedgerStore(client, OPS, "tollgate-spend"),
        budgets(ns),
        Clock.systemUTC(),
        flushInterval,
        Duration.ofSeconds(30),
        namespace -> {});
  }

  private static ReportReply send(Accounting a, UsageReport r) throws Exception {
    return a.submit(r).get(20, TimeUnit.SECONDS);
  }

  private static void createBudget(String ns) {
    client
        .resources(Budget.class)
        .inNamespace(ns)
        .resource(budgets(ns).budgets(ns).get(0))
        .create();
  }

  private static BigDecimal storedSpend(String ns) {
    ConfigMap cm = client.configMaps().inNamespace(OPS).withName("tollgate-spend-" + ns).get();
    if (cm == null) {
      return BigDecimal.ZERO;
    }
    SpendLedger.BudgetSpend b = ConfigMapLedgerStore.parse(cm).budgets.get("monthly");
    return b == null ? BigDecimal.ZERO : b.spentUsd();
  }

  private static BigDecimal committedSpend(String ns) {
    return ConfigMapLedgerStore.read(client, ns).budgets.get("monthly").spentUsd();
  }

  @Test
  void aReportIsAcknowledgedOnceItsBatchIsStoredBeforeTheLedgerIsRewritten() throws Exception {
    String ns = "journal-ack";
    client
        .resources(Budget.class)
        .inNamespace(ns)
        .resource(budgets(ns).budgets(ns).get(0))
        .create();
    // far from the limit the ledger object is written every 30 s at most: replies must not wait
    try (Accounting a = accounting(ns, Duration.ofSeconds(30))) {
      assertThat(send(a, report(ns, "a", 1, "1.00")).acknowledgedSequence()).isEqualTo(1);
      // the first batch is folded at once (nothing known about the namespace yet)
      org.awaitility.Awaitility.await().until(() -> storedSpend(ns).signum() > 0);
      long before = System.nanoTime();
      ReportReply second = send(a, report(ns, "a", 2, "2.00"));
      assertThat(second.acknowledgedSequence()).isEqualTo(2);
      assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(10));
      // acknowledged while the ledger object still holds only the first report: the journal has it
      assertThat(storedSpend(ns)).isEqualByComparingTo("1.00");
      assertThat(committedSpend(ns)).isEqualByComparingTo("3.00");
      assertThat(
              client
                  .configMaps()
                  .inNamespace(OPS)
                  .withName(ConfigMapLedgerStore.batchName("tollgate-spend", ns, 2))
                  .get())
          .isNotNull();
    }
    // closing writes the ledger with its journal folded in, and removes the folded batches
    assertThat(storedSpend(ns)).isEqualByComparingTo("3.00");
    assertThat(
            ConfigMapLedgerStore.parse(
                    client.configMaps().inNamespace(OPS).withName("tollgate-spend-" + ns).get())
                .journal)
        .isEqualTo(2L);
    assertThat(
            client
                .configMaps()
                .inNamespace(OPS)
                .withLabel("app.kubernetes.io/component", ConfigMapLedgerStore.JOURNAL_COMPONENT)
                .withLabel(ConfigMapLedgerStore.NAMESPACE_LABEL, ns)
                .list()
                .getItems())
        .extracting(c -> c.getMetadata().getName())
        .containsExactly("tollgate-spend-" + ns + ".journal");
  }

  @Test
  void aNewLeaderReplaysTheJournalAndAResentReportCountsOnce() throws Exception {
    String ns = "journal-failover";
    createBudget(ns);
    Accounting old = accounting(ns, Duration.ofSeconds(30));
    send(old, report(ns, "a", 1, "1.00"));
    send(old, report(ns, "a", 2, "2.00")); // in the journal only
    send(old, report(ns, "b", 1, "0.50")); // in the journal only
    // the old leader is cut off without writing its ledger (no close): its replies were sent
    try (Accounting next = accounting(ns, Duration.ofSeconds(30))) {
      // b's reply was lost: it resends; a goes on with its next report
      assertThat(send(next, report(ns, "b", 1, "0.50")).acknowledgedSequence()).isEqualTo(1);
      assertThat(send(next, report(ns, "a", 2, "2.00")).acknowledgedSequence()).isEqualTo(2);
      send(next, report(ns, "a", 3, "4.00"));
      assertThat(committedSpend(ns)).isEqualByComparingTo("7.50");

      // the old leader still runs and is handed a report: its journal head is stale, so it loads
      // the newer state and applies it once
      assertThat(send(old, report(ns, "a", 3, "4.00")).acknowledgedSequence()).isEqualTo(3);
      send(old, report(ns, "b", 2, "0.25"));
      assertThat(committedSpend(ns)).isEqualByComparingTo("7.75");
      send(next, report(ns, "b", 2, "0.25"));
      send(next, report(ns, "b", 3, "0.25"));
      assertThat(committedSpend(ns)).isEqualByComparingTo("8.00");
    } finally {
      old.close();
    }
    assertThat(storedSpend(ns)).isEqualByComparingTo("8.00");
  }

  @Test
  void aBatchLeftByAWriterThatFailedBetweenItsTwoStepsIsAdoptedNotLost() throws Exception {
    String ns = "journal-orphan";
    createBudget(ns);
    ConfigMapLedgerStore store = new ConfigMapLedgerStore(client, OPS, "tollgate-spend");
    LedgerStore.Head head = store.append(ns, new LedgerStore.Head(0, null), batch(1, ns, "c", 1));
    assertThat(head.index()).isEqualTo(1);
    // a writer stored batch 2 and died before moving the head
    var twoSteps = new ConfigMapLedgerStore(client, OPS, "tollgate-spend");
    LedgerStore.Head stale = new LedgerStore.Head(1, "stale-version");
    assertThat(twoSteps.append(ns, stale, batch(2, ns, "c", 2))).isNull();
    assertThat(store.head(ns).index()).isEqualTo(1);

    try (Accounting a = accounting(ns, Duration.ofSeconds(30))) {
      // c's reply for sequence 2 never went out: it resends, and it counts once
      assertThat(send(a, report(ns, "c", 2, "1.00")).acknowledgedSequence()).isEqualTo(2);
      send(a, report(ns, "c", 3, "1.00"));
      assertThat(committedSpend(ns)).isEqualByComparingTo("3.00");
      // batch 2 adopted, the resend (its reporter seen again) in 3, sequence 3 in 4
      assertThat(store.head(ns).index()).isEqualTo(4);
    }
  }

  private static LedgerStore.Batch batch(long index, String ns, String pod, long seq) {
    SpendLedger ledger = new SpendLedger();
    UsageReport r = report(ns, pod, seq, "1.00");
    for (long s = 1; s <= seq; s++) {
      Accounting.apply(
          ledger,
          report(ns, pod, s, "1.00"),
          budgets(ns).budgets(ns),
          Instant.now(),
          Duration.ofSeconds(30));
    }
    return new LedgerStore.Batch(
        index,
        Instant.now(),
        List.of(new LedgerStore.Entry(r, ledger.reporters.get("uid-" + pod + "/boot"))));
  }
}
