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
    return UsageReport.builder(ns, pod, "uid-" + pod, "boot", seq, "v1")
        .lines(
            List.of(
                UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                    .requests(1)
                    .inputTokens(10)
                    .outputTokens(5)
                    .costUsd(cost)
                    .build()))
        .build();
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
      ConfigMap slot =
          client
              .configMaps()
              .inNamespace(OPS)
              // batch 1 took slot 0; its writer knew nothing folded, so batch 2 took slot 1
              .withName(ConfigMapLedgerStore.slotName("tollgate-spend", ns, 1))
              .get();
      assertThat(slot.getMetadata().getLabels())
          .containsEntry(ConfigMapLedgerStore.INDEX_LABEL, "2");
    }
    // closing writes the ledger with its journal folded in; the slots stay, to be reused
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
        .containsExactlyInAnyOrder(
            "tollgate-spend-" + ns + ".j-0", "tollgate-spend-" + ns + ".j-1");
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
  void aStaleWriterCannotCommitAnIndexAnotherCommittedNorWriteIntoAReusedSlot() {
    String ns = "journal-fence";
    createBudget(ns);
    ConfigMapLedgerStore store = new ConfigMapLedgerStore(client, OPS, "tollgate-spend");
    int slots = store.journalSlots();
    // the old leader commits batches 1 to slots + 1 knowing no fold: they fill slots 0 to slots - 1
    // and batch slots + 1 takes the oldest batch's slot, 0; slot 1 holds batch 2
    LedgerStore.Head old = store.journal(ns, 0).head();
    for (long i = 1; i <= slots + 1; i++) {
      old = store.append(ns, old, batch(i, ns, "d", 1));
      assertThat(old).isNotNull();
    }
    // a new leader (the ledger folded through slots) commits the next index into slot 1
    LedgerStore.Journal journal = store.journal(ns, slots);
    assertThat(journal.head().index()).isEqualTo(slots + 1L);
    assertThat(journal.batches()).hasSize(1);
    LedgerStore.Head next = store.append(ns, journal.head(), batch(slots + 2, ns, "d", 2));
    assertThat(next).isNotNull();
    // the old leader, cut off, tries the same index: it picks slot 1 too (the same head), and its
    // view of slot 1 is stale: nothing commits
    assertThat(store.append(ns, old, batch(slots + 2, ns, "e", 1))).isNull();
    // a writer that knows no slot and believes slot 0 free cannot create it over a batch either
    LedgerStore.Head blind =
        store.append(ns, next, batch(slots + 3, ns, "d", 3)); // slot 2, written by next
    assertThat(blind).isNotNull();
    assertThat(
            store.append(
                ns,
                new LedgerStore.Head(slots + 2L, java.util.Map.of()),
                batch(slots + 3, ns, "e", 1)))
        .isNull();
    assertThat(store.journal(ns, slots).batches())
        .extracting(LedgerStore.Batch::index)
        .containsExactly(slots + 1L, slots + 2L, slots + 3L);
  }

  @Test
  void theJournalGoesRoundItsSlotsAndANewLeaderStillCountsEveryReportOnce() throws Exception {
    String ns = "journal-ring";
    createBudget(ns);
    int slots = ConfigMapLedgerStore.JOURNAL_SLOTS;
    int reports = slots * 2 + 10;
    Accounting old = accounting(ns, Duration.ofMillis(50));
    for (int seq = 1; seq <= reports; seq++) {
      send(old, report(ns, "r", seq, "0.01"));
    }
    assertThat(committedSpend(ns))
        .isEqualByComparingTo(new BigDecimal("0.01").multiply(BigDecimal.valueOf(reports)));
    // cut off without close; the new leader gets a resend of the last report and one more
    try (Accounting next = accounting(ns, Duration.ofSeconds(30))) {
      assertThat(send(next, report(ns, "r", reports, "0.01")).acknowledgedSequence())
          .isEqualTo(reports);
      send(next, report(ns, "r", reports + 1, "0.01"));
      assertThat(committedSpend(ns))
          .isEqualByComparingTo(new BigDecimal("0.01").multiply(BigDecimal.valueOf(reports + 1)));
    } finally {
      old.close();
    }
    assertThat(
            client
                .configMaps()
                .inNamespace(OPS)
                .withLabel("app.kubernetes.io/component", ConfigMapLedgerStore.JOURNAL_COMPONENT)
                .withLabel(ConfigMapLedgerStore.NAMESPACE_LABEL, ns)
                .list()
                .getItems())
        .hasSizeLessThanOrEqualTo(slots);
  }

  /** The store, counting the ledger object's writes. */
  private static final class CountingStore implements LedgerStore {
    final ConfigMapLedgerStore store = new ConfigMapLedgerStore(client, OPS, "tollgate-spend");
    final java.util.concurrent.atomic.AtomicInteger ledgerWrites =
        new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public Versioned load(String namespace) {
      return store.load(namespace);
    }

    @Override
    public byte[] prepare(String namespace, SpendLedger ledger) {
      return store.prepare(namespace, ledger);
    }

    @Override
    public String write(String namespace, byte[] prepared, String version) {
      ledgerWrites.incrementAndGet();
      return store.write(namespace, prepared, version);
    }

    @Override
    public int journalSlots() {
      return store.journalSlots();
    }

    @Override
    public Journal journal(String namespace, long folded) {
      return store.journal(namespace, folded);
    }

    @Override
    public Head append(String namespace, Head head, Batch batch) {
      journalAppends.incrementAndGet();
      return store.append(namespace, head, batch);
    }

    private final java.util.concurrent.atomic.AtomicInteger journalAppends =
        new java.util.concurrent.atomic.AtomicInteger();

    int journalWrites() {
      return journalAppends.get();
    }
  }

  @Test
  void aBudgetNearItsLimitIsWrittenWithinTheWriteBudgetNotAtEveryFlush() throws Exception {
    String ns = "journal-near";
    Budget b = Fixtures.budget(ns, "monthly", "1.00");
    b.getSpec().setOnExceeded(BudgetSpec.ExceededAction.BLOCK);
    CountingStore store = new CountingStore();
    // a write budget of 100 bytes a second: a ledger of ~1 KiB is written every 10 s at most,
    // near its limit too (replies come from memory; only status waits for the ledger object)
    try (Accounting a =
        new Accounting(
            store,
            namespace -> List.of(b),
            Clock.systemUTC(),
            Duration.ofMillis(50),
            Duration.ofSeconds(30),
            namespace -> {},
            100)) {
      send(a, report(ns, "a", 1, "0.85")); // at 85 %: near the limit from the first batch
      org.awaitility.Awaitility.await().until(() -> store.ledgerWrites.get() >= 1);
      long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
      for (long seq = 2; System.nanoTime() < end; seq++) {
        send(a, report(ns, "a", seq, "0.00"));
        Thread.sleep(20);
      }
      // at the 50 ms flush interval this was ~40 writes of the ledger object. Writes forced by
      // the journal ring filling up (half its slots unfolded: 32 batches of the 64-slot ring) are
      // another mechanism, and how many batches 2 s of reports make depends on the machine's load
      // (one to three such folds): the pace is what this test bounds
      long forcedByTheRing = a.folds()[1];
      assertThat(a.folds()[0]).as("writes due by the pace").isLessThanOrEqualTo(2);
      assertThat((long) store.ledgerWrites.get()).isLessThanOrEqualTo(2 + forcedByTheRing);
      assertThat(forcedByTheRing)
          .as("at most one forced write per half ring of batches")
          .isLessThanOrEqualTo((long) store.journalWrites() / (store.journalSlots() / 2));
    }
  }

  @Test
  void theRingAboutToWrapForcesALedgerWriteWhateverThePace() throws Exception {
    String ns = "journal-wrap";
    createBudget(ns);
    CountingStore store = new CountingStore();
    int slots = store.journalSlots();
    // paced far beyond the test (30 s flush interval): only the ring can make it write
    try (Accounting a =
        new Accounting(
            store,
            budgets(ns),
            Clock.systemUTC(),
            Duration.ofSeconds(30),
            Duration.ofSeconds(30),
            namespace -> {})) {
      send(a, report(ns, "r", 1, "0.01")); // the first batch is written at once
      org.awaitility.Awaitility.await().until(() -> store.ledgerWrites.get() == 1);
      for (int seq = 2; seq <= slots + 10; seq++) { // one batch each: past the ring's size
        send(a, report(ns, "r", seq, "0.01"));
      }
      // half the slots unfolded forced a write (no report waited for a full ring)
      assertThat(a.folds()[1]).isGreaterThanOrEqualTo(1);
      assertThat(
              ConfigMapLedgerStore.parse(
                      client.configMaps().inNamespace(OPS).withName("tollgate-spend-" + ns).get())
                  .journal)
          .isGreaterThanOrEqualTo(slots / 2L);
      assertThat(committedSpend(ns))
          .isEqualByComparingTo(new BigDecimal("0.01").multiply(BigDecimal.valueOf(slots + 10)));
    }
  }

  private static List<String> journalObjects(String ns) {
    return client
        .configMaps()
        .inNamespace(OPS)
        .withLabel("app.kubernetes.io/component", ConfigMapLedgerStore.JOURNAL_COMPONENT)
        .withLabel(ConfigMapLedgerStore.NAMESPACE_LABEL, ns)
        .list()
        .getItems()
        .stream()
        .map(c -> c.getMetadata().getName())
        .toList();
  }

  @Test
  void batchesReuseTheLowestFoldedSlotsAndTheSmallRingWrapsOnlyWhenNothingIsFolded() {
    String ns = "journal-reuse";
    createBudget(ns);
    ConfigMapLedgerStore store = new ConfigMapLedgerStore(client, OPS, "tollgate-spend");
    // 200 batches, each writer knowing the ledger committed three batches behind it: four slots
    // serve them all (three unfolded batches and the new one; the 128-slot ring made 128 objects)
    LedgerStore.Head head = store.journal(ns, 0).head();
    for (long i = 1; i <= 200; i++) {
      LedgerStore.Batch b = batch(i, ns, "r", i);
      head =
          store.append(ns, head, new LedgerStore.Batch(i, b.at(), b.entries(), Math.max(0, i - 3)));
      assertThat(head).isNotNull();
    }
    assertThat(journalObjects(ns)).hasSize(4);
    assertThat(store.journal(ns, 197).batches())
        .extracting(LedgerStore.Batch::index)
        .containsExactly(198L, 199L, 200L);
    // a new writer (loaded from the API server) picks the slot the old one would have
    LedgerStore.Head loaded = store.journal(ns, 197).head();
    assertThat(ConfigMapLedgerStore.nextSlot(loaded, store.journalSlots()))
        .isEqualTo(ConfigMapLedgerStore.nextSlot(head, store.journalSlots()));

    // nothing folded: the batches take all the slots, then wrap onto the oldest
    String full = "journal-full";
    createBudget(full);
    int slots = store.journalSlots();
    LedgerStore.Head h = store.journal(full, 0).head();
    for (long i = 1; i <= slots + 2; i++) {
      h = store.append(full, h, batch(i, full, "r", i));
      assertThat(h).isNotNull();
    }
    assertThat(journalObjects(full)).hasSize(slots);
    assertThat(store.journal(full, slots).batches())
        .extracting(LedgerStore.Batch::index)
        .containsExactly(slots + 1L, slots + 2L);
    assertThat(h.held()).containsEntry(0, slots + 1L).containsEntry(1, slots + 2L);
  }

  /** Writes batch {@code index} as the 128-slot ring of earlier versions did: no fold label. */
  private static void legacySlot(String ns, LedgerStore.Batch b) {
    int slot = (int) (b.index() % 128);
    client
        .configMaps()
        .inNamespace(OPS)
        .resource(
            new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                .withNewMetadata()
                .withName(ConfigMapLedgerStore.slotName("tollgate-spend", ns, slot))
                .addToLabels("app.kubernetes.io/component", ConfigMapLedgerStore.JOURNAL_COMPONENT)
                .addToLabels(ConfigMapLedgerStore.NAMESPACE_LABEL, ns)
                .addToLabels(ConfigMapLedgerStore.INDEX_LABEL, Long.toString(b.index()))
                .endMetadata()
                .withBinaryData(
                    java.util.Map.of(
                        "batch.json.gz",
                        java.util.Base64.getEncoder()
                            .encodeToString(
                                ConfigMapLedgerStore.gzip(ConfigMapLedgerStore.serialize(b)))))
                .build())
        .createOr(io.fabric8.kubernetes.client.dsl.NonDeletingOperation::update);
  }

  @Test
  void anUpgradeReadsThe128SlotRingCountsEachBatchOnceAndRetiresItsHighSlots() throws Exception {
    String ns = "journal-upgrade";
    createBudget(ns);
    // an earlier operator: 150 batches of one report each (0.01), the ledger folded through 80,
    // batch n in slot n mod 128 (batches 129 to 150 went round into slots 1 to 22)
    SpendLedger ledger = new SpendLedger();
    List<Budget> list = budgets(ns).budgets(ns);
    for (long n = 1; n <= 150; n++) {
      UsageReport r = report(ns, "p", n, "0.01");
      Accounting.apply(ledger, r, list, Instant.now(), Duration.ofSeconds(30));
      legacySlot(
          ns,
          new LedgerStore.Batch(
              n,
              Instant.now(),
              List.of(new LedgerStore.Entry(r, ledger.reporters.get("uid-p/boot")))));
      if (n == 80) {
        ledger.journal = 80L;
        new ConfigMapLedgerStore(client, OPS, "tollgate-spend")
            .write(ns, ConfigMapLedgerStore.serialize(ledger), null);
      }
    }
    assertThat(journalObjects(ns)).hasSize(128);
    assertThat(committedSpend(ns)).isEqualByComparingTo("1.50");
    // the new operator: 70 batches wait unfolded, more than its ring holds: it folds first; the
    // reply to report 150 was lost and it is resent (counts once), then report 151
    try (Accounting a = accounting(ns, Duration.ofSeconds(30))) {
      assertThat(send(a, report(ns, "p", 150, "0.01")).acknowledgedSequence()).isEqualTo(150);
      assertThat(send(a, report(ns, "p", 151, "0.01")).acknowledgedSequence()).isEqualTo(151);
      assertThat(committedSpend(ns)).isEqualByComparingTo("1.51");
      // the ledger was folded through 150: the slots above the new ring's are deleted, once
      org.awaitility.Awaitility.await()
          .untilAsserted(
              () ->
                  assertThat(journalObjects(ns))
                      .allSatisfy(
                          name ->
                              assertThat(
                                      Integer.parseInt(name.substring(name.lastIndexOf('-') + 1)))
                                  .isLessThan(ConfigMapLedgerStore.JOURNAL_SLOTS)));
    }
    assertThat(storedSpend(ns)).isEqualByComparingTo("1.51");
    // a later leader loads what is left and still counts each report once
    try (Accounting next = accounting(ns, Duration.ofSeconds(30))) {
      assertThat(send(next, report(ns, "p", 151, "0.01")).acknowledgedSequence()).isEqualTo(151);
      send(next, report(ns, "p", 152, "0.01"));
      assertThat(committedSpend(ns)).isEqualByComparingTo("1.52");
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
