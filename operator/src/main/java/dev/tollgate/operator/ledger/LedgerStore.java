package dev.tollgate.operator.ledger;

/**
 * Where a namespace's {@link SpendLedger} lives. Saves are conditional on the version read, so two
 * operator replicas (or an old leader and a new one) can never both apply the same report.
 */
public interface LedgerStore {
  /** The ledger and the version it was read at (null: none stored yet). */
  record Versioned(SpendLedger ledger, String version) {}

  Versioned load(String namespace);

  /**
   * Saves {@code ledger} if the stored version is still {@code version} (null: create).
   *
   * @return false on a conflict: someone else wrote in between; load again and re-apply
   */
  boolean save(String namespace, SpendLedger ledger, String version);

  /** The size of the namespace's ledger as last written by this store, in bytes (0: unknown). */
  default long storedBytes(String namespace) {
    return 0;
  }
}
