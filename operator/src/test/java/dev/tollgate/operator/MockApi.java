package dev.tollgate.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.time.Duration;
import java.util.Set;
import org.awaitility.Awaitility;

/**
 * Helpers for running the operator against fabric8's mock API server in CRUD mode.
 *
 * <p>The CRDs are deliberately not registered with the mock server. Registered, it treats {@code
 * status} as a subresource, but its PATCH handler then stores a missing status as a JSON "missing"
 * node, after which every JSON patch of that object's status fails ("Cannot reference past scalar
 * value"); JOSDK's first finalizer patch triggers exactly that. Unregistered, status patches on
 * {@code /status} still only touch status and spec changes still bump {@code generation}; the one
 * difference, that a PUT of the whole object replaces its status, is avoided by changing custom
 * resources in tests with patches ({@code edit}), never by re-applying them.
 */
public final class MockApi {
  private MockApi() {}

  /**
   * Awaitility's default of 10 s is too tight on a loaded 2-core machine; these bounds only stop a
   * broken test from hanging, they do not assert speed.
   */
  public static void patientAwaits() {
    Awaitility.setDefaultTimeout(Duration.ofSeconds(60));
    Awaitility.setDefaultPollInterval(Duration.ofMillis(100));
  }

  /** Creates {@code resource}, or replaces it (Secrets) if it exists; no server-side apply here. */
  public static void apply(KubernetesClient client, HasMetadata resource) {
    client.resource(resource).createOr(NonDeletingOperation::update);
  }

  /**
   * Settings for tests: no server-side apply (the mock server answers 415 to apply patches), no
   * HTTP port, all namespaces, a short Lease (renewed every 4 s at the latest).
   */
  public static OperatorConfig config(boolean leaderElection, String identity) {
    return new OperatorConfig(
        Set.of(),
        "tollgate-system",
        leaderElection,
        "tollgate-operator",
        // short, so the standby takes over quickly; long enough that a loaded machine still renews
        // it
        Duration.ofSeconds(6),
        identity,
        0,
        "tollgate-sidecar-config",
        false,
        Duration.ofMinutes(10),
        2,
        // Secrets are not watched: look again soon, so tests see a Secret change within seconds
        Duration.ofSeconds(1),
        // usage in status at once (StatusThrottleIT tests the throttle)
        Duration.ZERO);
  }
}
