package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Namespaces' batches are written in parallel, as many as {@link Accounting#WORKERS}: a batch of
 * one namespace does not wait behind the API round trips of the others (100 namespaces on a handful
 * of workers made a report wait for 25 round trips).
 */
class AccountingConcurrencyTest {

  /** A journal whose appends wait until {@code expected} of them are in flight together. */
  private static final class GatedStore implements LedgerStore {
    final CountDownLatch together;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger most = new AtomicInteger();

    GatedStore(int expected) {
      together = new CountDownLatch(expected);
    }

    @Override
    public Versioned load(String namespace) {
      return new Versioned(new SpendLedger(), null);
    }

    @Override
    public byte[] prepare(String namespace, SpendLedger ledger) {
      return ConfigMapLedgerStore.serialize(ledger);
    }

    @Override
    public String write(String namespace, byte[] prepared, String version) {
      return "v";
    }

    @Override
    public int journalSlots() {
      return ConfigMapLedgerStore.JOURNAL_SLOTS;
    }

    @Override
    public Journal journal(String namespace, long folded) {
      return new Journal(new Head(folded), List.of());
    }

    @Override
    public Head append(String namespace, Head head, Batch batch) {
      most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      together.countDown();
      try {
        together.await(5, TimeUnit.SECONDS); // an API round trip that lasts until all are in
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        inFlight.decrementAndGet();
      }
      return head.next(batch.index(), 0, "v", batch.folded());
    }
  }

  @Test
  void theBatchesOfManyNamespacesAreWrittenAtTheSameTime() throws Exception {
    int namespaces = 24; // more than the 4 workers a 2-core machine had before
    GatedStore store = new GatedStore(namespaces);
    try (Accounting a =
        new Accounting(
            store,
            ns -> List.<Budget>of(Fixtures.budget(ns, "monthly", "1000")),
            Clock.systemUTC(),
            Duration.ofMillis(50),
            Duration.ofSeconds(30),
            ns -> {})) {
      List<CompletableFuture<ReportReply>> replies = new ArrayList<>();
      for (int i = 0; i < namespaces; i++) {
        String ns = "ns-" + i;
        replies.add(
            a.submit(
                UsageReport.builder(ns, "pod", "uid", "boot", 1, "v1")
                    .lines(
                        List.of(
                            UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                                .requests(1)
                                .inputTokens(10)
                                .outputTokens(5)
                                .costUsd("0.01")
                                .build()))
                    .build()));
      }
      for (CompletableFuture<ReportReply> r : replies) {
        assertThat(r.get(20, TimeUnit.SECONDS).acknowledgedSequence()).isEqualTo(1);
      }
      assertThat(store.most.get()).isEqualTo(namespaces);
    }
  }
}
