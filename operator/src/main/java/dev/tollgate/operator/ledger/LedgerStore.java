package dev.tollgate.operator.ledger;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.time.Instant;
import java.util.List;

/**
 * Where a namespace's {@link SpendLedger} lives: the ledger object, and a journal of the batches of
 * reports committed since the ledger was last written.
 *
 * <p>Saves of the ledger are conditional on the version read, and so is every journal append (on
 * the version of the journal slot it writes: the write itself commits), so two operator replicas
 * (or an old leader and a new one) can never both apply the same report. A batch is durable once
 * {@link #append} returned its new head: reports are acknowledged then, without waiting for the
 * (much larger) ledger to be rewritten. The ledger is written now and then with the journal
 * position it includes ({@link SpendLedger#journal}); loading replays the batches after that
 * position.
 */
public interface LedgerStore {
  /** The ledger and the version it was read at (null: none stored yet). */
  record Versioned(SpendLedger ledger, String version) {}

  /**
   * What a writer knows of the namespace's journal: the index of the last committed batch (0:
   * none), and for each journal slot it knows of the version and the index of the batch it holds (a
   * slot it does not know of did not exist when it last read the journal), and {@code reusable}:
   * slots holding a batch at or below it may take the next batch (the fold position the head
   * batch's writer knew to be committed). Which slot the next batch goes to is a function of this
   * alone, so every writer that knows the same head picks the same slot, and appending writes it
   * conditionally on the version known: of two writers of one index only one commits.
   */
  record Head(
      long index,
      java.util.Map<Integer, String> slots,
      java.util.Map<Integer, Long> held,
      long reusable) {
    public Head {
      slots = java.util.Map.copyOf(slots);
      held = java.util.Map.copyOf(held);
    }

    /** A journal with nothing known of its slots (a first write creates them). */
    public Head(long index) {
      this(index, java.util.Map.of(), java.util.Map.of(), index);
    }

    /** A head with the versions of its slots known but not what they hold (tests). */
    public Head(long index, java.util.Map<Integer, String> slots) {
      this(index, slots, java.util.Map.of(), index);
    }

    /**
     * This head moved to {@code index}, stored in slot {@code slot} (now at {@code version}) by a
     * writer that knew the ledger committed through {@code folded}.
     */
    public Head next(long index, int slot, String version, long folded) {
      java.util.Map<Integer, String> versions = new java.util.HashMap<>(slots);
      versions.put(slot, version);
      java.util.Map<Integer, Long> indices = new java.util.HashMap<>(held);
      indices.put(slot, index);
      return new Head(index, versions, indices, folded);
    }
  }

  /**
   * One committed batch: the reports applied at {@code at}, each with its reporter as the batch
   * left it (watermark, grants, shares), so that replaying it restores what the replies said; and
   * {@code folded}, the journal position its writer knew the ledger object to be committed at (the
   * slots of batches up to there may be reused after it).
   */
  record Batch(long index, Instant at, List<Entry> entries, long folded) {
    /** A batch written by a writer that knows of no fold (tests). */
    public Batch(long index, Instant at, List<Entry> entries) {
      this(index, at, entries, 0);
    }
  }

  /** A report of a batch and its reporter after it was applied (null when none was recorded). */
  record Entry(UsageReport report, SpendLedger.Reporter reporter) {}

  /** The journal after a folded position: its head and the batches to replay, in order. */
  record Journal(Head head, List<Batch> batches) {}

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

  /**
   * The most slots the journal has: batch {@code n} may be appended only once batch {@code n -
   * journalSlots()} is folded into the ledger. Slots are taken as needed, the lowest free one
   * first, so a namespace whose ledger is folded every few batches keeps only a few.
   */
  int journalSlots();

  /**
   * The namespace's journal after the ledger's position {@code folded}: its head and the committed
   * batches {@code folded + 1} to the head, in order.
   *
   * @throws MissingBatchException when the journal does not continue the ledger (folded further by
   *     another writer meanwhile, its slots reused): load the ledger again
   */
  Journal journal(String namespace, long folded);

  /**
   * Commits {@code batch} (whose index must be {@code head.index() + 1}, and batch {@code index -
   * journalSlots()} folded) in one write: the slot {@code head} picks, conditional on the version
   * {@code head} knows. A writer whose head is stale (another committed this index, or a later one
   * in this slot) gets a conflict: its batch is not committed.
   *
   * @return the new head, or null on a conflict: someone else committed in between; load again
   */
  Head append(String namespace, Head head, Batch batch);

  /** Bytes of journal batches this store has written so far, all namespaces (0: not counted). */
  default long journalBytesWritten() {
    return 0;
  }

  /**
   * The ledger is committed through {@code folded}: journal objects no longer used (the slots of a
   * larger ring an earlier version wrote) whose batches are folded may be deleted. Costs nothing
   * when there are none.
   */
  default void retire(String namespace, long folded) {}

  /** A batch the head says was committed is not there (folded meanwhile). */
  final class MissingBatchException extends IllegalStateException {
    public MissingBatchException(String message) {
      super(message);
    }
  }
}
