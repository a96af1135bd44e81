package dev.tollgate.operator.webhook;

import java.util.Map;
import java.util.Set;

/** What the webhook needs to know about a pod's namespace; an interface so tests can fake it. */
public interface NamespaceView {
  /** Labels of the namespace; empty when it has none. */
  Map<String, String> labels(String namespace);

  /** Secrets the namespace's Tollgate resources reference (API keys, Redis passwords). */
  Set<String> referencedSecrets(String namespace);

  /**
   * Whether a credential of the namespace authenticates as the pod's AWS or Azure identity, so the
   * sidecar needs the environment those clouds' webhooks give the app; none by default.
   */
  default boolean usesPodIdentity(String namespace) {
    return false;
  }

  /**
   * The controller reference of a ReplicaSet or Job of the namespace, for {@link WorkloadResolver};
   * throws when it cannot be read (then the naming convention stands in), which is what a view
   * without API access does.
   */
  default java.util.Optional<io.fabric8.kubernetes.api.model.OwnerReference> controllerOf(
      String namespace, String kind, String name) {
    throw new UnsupportedOperationException("no API access to read " + kind + " " + name);
  }
}
