package dev.tollgate.operator;

import static dev.tollgate.operator.Fixtures.credential;
import static dev.tollgate.operator.Fixtures.route;
import static dev.tollgate.operator.Fixtures.secret;
import static dev.tollgate.operator.Fixtures.tier;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.operator.ops.OperatorMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/**
 * Stopping the operator: {@link TollgateOperator#close()} returns once the reconciles in flight
 * have finished, so the client can be closed right after it (as {@code OperatorMain}'s shutdown
 * hook and local mode do) without a status patch failing on a closed client.
 */
@EnableKubernetesMockClient(crud = true)
class OperatorShutdownIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @Test
  void closeWaitsForTheReconcilesInFlight() throws InterruptedException {
    MockApi.patientAwaits();
    TollgateOperator operator =
        new TollgateOperator(
            MockApi.config(false, "shutdown"),
            client,
            new OperatorMetrics(new PrometheusRegistry()),
            Clock.systemUTC(),
            false);
    operator.start();
    String ns = "shutdown";
    MockApi.apply(client, secret(ns, "openai-key", "api-key"));
    MockApi.apply(client, credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    // a burst of work: each route's reconcile renders the namespace's ConfigMap and patches status
    for (int i = 0; i < 20; i++) {
      MockApi.apply(client, route(ns, "r" + i, "m" + i, tier("main", "openai", "gpt-4o-mini")));
    }
    await()
        .until(
            () ->
                client.resources(LLMRoute.class).inNamespace(ns).list().getItems().stream()
                    .anyMatch(r -> r.getStatus() != null));

    operator.close();
    int requestsAtClose = server.getRequestCount();
    Thread.sleep(1000);

    assertThat(server.getRequestCount())
        .as("requests the operator sent after close() returned")
        .isEqualTo(requestsAtClose);
  }
}
