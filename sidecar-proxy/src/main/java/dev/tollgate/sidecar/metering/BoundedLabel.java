package dev.tollgate.sidecar.metering;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A metric label of values a caller chooses (end users, feature tags), kept bounded: the first
 * {@code max} distinct values the sidecar sees keep their own series, every later one is counted
 * under {@link Attribution#OTHER}. A sidecar restart starts afresh; the operator's ledger, not the
 * metrics, holds the exact per-user and per-feature totals.
 */
final class BoundedLabel {
  private final int max;
  private final Set<String> seen = ConcurrentHashMap.newKeySet();

  BoundedLabel(int max) {
    this.max = max;
  }

  /** The label for {@code value}: itself while there is room (or it has a series), else _other. */
  String of(String value) {
    if (seen.contains(value)) {
      return value;
    }
    if (seen.size() < max) {
      seen.add(value);
      return value;
    }
    return Attribution.OTHER;
  }
}
