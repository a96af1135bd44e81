package dev.tollgate.operator.ledger;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.time.Instant;
import java.util.List;

/**
 * Where a namespace's {@link SpendLedger} lives: the ledger object, and a journal of the batches of
 * reports committed since the ledger was last written.
 *
 * <p>Saves of the ledger are conditional on the version read, and so is every journal append (on
 * the journal's head), so two operator replicas (or an old leader and a new one) can never both
 * apply the same report. A batch is durable once {@link #append} returned its new head: reports are
 * acknowledged then, without waiting for the (much larger) ledger to be rewritten. The ledger is
 * written now and then with the journal position it includes ({@link SpendLedger#journal}); loading
 * replays the batches after that position.
 */
public interface LedgerStore {
  /** The ledger and the version it was read at (null: none stored yet). */
  record Versioned(SpendLedger ledger, String version) {}

  /**
   * The journal's head: the index of the last committed batch (0: none) and the version of the
   * object holding it (null: none stored yet).
   */
  record Head(long index, String version) {}

  /**
   * One committed batch: the reports applied at {@code at}, each with its reporter as the batch
   * left it (watermark, grants, shares), so that replaying it restores what the replies said.
   */
  record Batch(long index, Instant at, List<Entry> entries) {}

  /** A report of a batch and its reporter after it was applied (null when none was recorded). */
  record Entry(UsageReport report, SpendLedger.Reporter reporter) {}

  Versioned load(String namespace);

  /**
   * Saves {@code ledger} if the stored version is still {@code version} (null: create).
   *
   * @return false on a conflict: someone else wrote in between; load again and re-apply
   */
  default boolean save(String namespace, SpendLedger ledger, String version) {
    return write(namespace, ledger, version) != null;
  }

  /** Like {@link #save}, returning the new version, or null on a conflict. */
  default String write(String namespace, SpendLedger ledger, String version) {
    return write(namespace, prepare(namespace, ledger), version);
  }

  /**
   * The ledger as it would be stored.
   *
   * @throws ConfigMapLedgerStore.LedgerTooLargeException when it is too large to be written
   */
  byte[] prepare(String namespace, SpendLedger ledger);

  /** Writes a ledger {@link #prepare}d before; the new version, or null on a conflict. */
  String write(String namespace, byte[] prepared, String version);

  /** The size of the namespace's ledger as last written by this store, in bytes (0: unknown). */
  default long storedBytes(String namespace) {
    return 0;
  }

  /** The namespace's journal head (index 0, version null when it has none). */
  Head head(String namespace);

  /**
   * The committed batches with index {@code after + 1} to {@code through}, in order.
   *
   * @throws MissingBatchException when one is gone (folded into the ledger by another writer
   *     meanwhile): load again
   */
  List<Batch> batches(String namespace, long after, long through);

  /**
   * Commits {@code batch} (whose index must be {@code head.index() + 1}) if the journal's head is
   * still {@code head}.
   *
   * @return the new head, or null on a conflict: someone else committed in between; load again
   */
  Head append(String namespace, Head head, Batch batch);

  /** Removes the batches {@code from} to {@code through}, folded into the ledger (best effort). */
  void forget(String namespace, long from, long through);

  /**
   * Removes batch objects at or below {@code folded} left behind (by a writer that lost a race, or
   * a clean-up cut short): they are in the ledger or were never committed.
   */
  default void sweep(String namespace, long folded) {}

  /** A batch the head says was committed is not there (folded meanwhile). */
  final class MissingBatchException extends IllegalStateException {
    public MissingBatchException(String message) {
      super(message);
    }
  }
}
