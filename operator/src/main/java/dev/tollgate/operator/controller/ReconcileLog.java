package dev.tollgate.operator.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
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

  static ReconcileLog start(String kind, HasMetadata resource) {
    MDC.put(KIND, kind);
    MDC.put(NAMESPACE, resource.getMetadata().getNamespace());
    MDC.put(NAME, resource.getMetadata().getName());
    MDC.put(RECONCILE_ID, HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()));
    return new ReconcileLog();
  }

  @Override
  public void close() {
    MDC.remove(KIND);
    MDC.remove(NAMESPACE);
    MDC.remove(NAME);
    MDC.remove(RECONCILE_ID);
  }
}
