package dev.tollgate.operator;

import static dev.tollgate.operator.Fixtures.credential;
import static dev.tollgate.operator.Fixtures.route;
import static dev.tollgate.operator.Fixtures.secret;
import static dev.tollgate.operator.Fixtures.tier;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.operator.ops.OperatorMetrics;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The operator reads only the Secrets ProviderCredentials name, one by one: it never lists or
 * watches Secrets, so a cluster full of unrelated (large) Secrets costs it nothing.
 */
@EnableKubernetesMockClient(crud = true)
class SecretsNotWatchedIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @Test
  void onlyReferencedSecretsAreReadAndNoneIsListedOrWatched() throws Exception {
    MockApi.patientAwaits();
    String ns = "many-secrets";
    for (int i = 0; i < 20; i++) {
      MockApi.apply(
          client,
          new SecretBuilder()
              .withNewMetadata()
              .withName("unrelated-" + i)
              .withNamespace(ns)
              .endMetadata()
              .addToStringData("release", "x".repeat(1024))
              .build());
    }
    MockApi.apply(client, secret(ns, "openai-key", "api-key"));
    MockApi.apply(client, credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    MockApi.apply(client, route(ns, "chat", "chat", tier("t", "openai", "gpt-4o")));
    drainRequests();

    try (TollgateOperator operator =
        new TollgateOperator(
            MockApi.config(false, "it"),
            server.createClient(),
            new OperatorMetrics(new PrometheusRegistry()),
            Clock.systemUTC(),
            false)) {
      operator.start();
      await()
          .until(
              () -> {
                LLMRoute r =
                    client.resources(LLMRoute.class).inNamespace(ns).withName("chat").get();
                return r.getStatus() != null
                    && Conditions.isTrue(r.getStatus().getConditions(), Conditions.READY);
              });
    }

    List<String> secretRequests = new ArrayList<>();
    for (RecordedRequest r : drainRequests()) {
      String path = r.getPath();
      if (path.contains("/secrets")) {
        secretRequests.add(r.getMethod() + " " + path);
      }
    }
    assertThat(secretRequests)
        .isNotEmpty()
        .allSatisfy(
            r ->
                assertThat(r)
                    .as("only GETs of the referenced Secret")
                    .startsWith("GET /api/v1/namespaces/" + ns + "/secrets/openai-key"));
  }

  private static List<RecordedRequest> drainRequests() throws InterruptedException {
    List<RecordedRequest> requests = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      requests.add(r);
    }
    return requests;
  }
}
