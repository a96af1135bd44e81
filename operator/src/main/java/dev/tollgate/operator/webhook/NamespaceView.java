package dev.tollgate.operator.webhook;

import java.util.Map;
import java.util.Set;

/** What the webhook needs to know about a pod's namespace; an interface so tests can fake it. */
public interface NamespaceView {
  /** Labels of the namespace; empty when it has none. */
  Map<String, String> labels(String namespace);

  /** Secrets the namespace's Tollgate resources reference (API keys, Redis passwords). */
  Set<String> referencedSecrets(String namespace);
}
