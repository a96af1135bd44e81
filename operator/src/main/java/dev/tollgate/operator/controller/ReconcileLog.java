package dev.tollgate.operator.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * Puts the resource's kind, namespace, name and a reconcile id into the logging context for the
 * duration of one reconcile, so every line it logs can be traced back to the resource.
 */
final class ReconcileLog implements AutoCloseable {
  static final String KIND = "kind";
  static final String NAMESPACE = "namespace";
  static final String NAME = "name";
  static final String RECONCILE_ID = "reconcileId";

  private ReconcileLog() {}

  /** Runs {@code body} with the resource in the logging context. */
  @SuppressWarnings("try") // the scope's only job is to be closed
  static <T> T in(String kind, HasMetadata resource, Supplier<T> body) {
    try (ReconcileLog scope = start(kind, resource)) {
      return body.get();
    }
  }

  private static ReconcileLog start(String kind, HasMetadata resource) {
    MDC.put(KIND, kind);
    MDC.put(NAMESPACE, resource.getMetadata().getNamespace());
    MDC.put(NAME, resource.getMetadata().getName());
    MDC.put(RECONCILE_ID, HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()));
    return new ReconcileLog();
  }

  /**
   * Logs the outcome of a reconcile: at INFO when the status changes (what a person wants in the
   * log), at DEBUG when nothing did, so a resync of a thousand objects does not flood the log.
   */
  static void outcome(Logger log, boolean changed, List<Condition> conditions) {
    String summary =
        conditions == null
            ? ""
            : conditions.stream()
                .map(c -> c.getType() + "=" + c.getStatus() + "(" + c.getReason() + ")")
                .collect(Collectors.joining(" "));
    if (changed) {
      log.info("status changed: {}", summary);
    } else {
      log.debug("status unchanged: {}", summary);
    }
  }

  @Override
  public void close() {
    MDC.remove(KIND);
    MDC.remove(NAMESPACE);
    MDC.remove(NAME);
    MDC.remove(RECONCILE_ID);
  }
}
