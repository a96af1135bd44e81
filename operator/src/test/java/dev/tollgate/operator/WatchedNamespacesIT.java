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
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** With a configured namespace list, resources elsewhere are left alone. */
@EnableKubernetesMockClient(crud = true)
class WatchedNamespacesIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @Test
  void onlyTheConfiguredNamespacesAreReconciled() {
    MockApi.patientAwaits();
    OperatorConfig config =
        OperatorConfig.from(
            Map.of(),
            "--watch-namespaces=watched",
            "--leader-election=false",
            "--http-port=0",
            "--reconcile-threads=2");
    try (TollgateOperator operator =
        new TollgateOperator(
            config,
            client,
            new OperatorMetrics(new PrometheusRegistry()),
            Clock.systemUTC(),
            false)) {
      operator.start();
      for (String ns : new String[] {"ignored", "watched"}) {
        MockApi.apply(client, secret(ns, "openai-key", "api-key"));
        MockApi.apply(client, credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
        MockApi.apply(client, route(ns, "chat", "chat", tier("t", "openai", "gpt-4o")));
      }

      await()
          .until(
              () -> {
                LLMRoute r =
                    client.resources(LLMRoute.class).inNamespace("watched").withName("chat").get();
                return r.getStatus() != null
                    && Conditions.isTrue(r.getStatus().getConditions(), Conditions.READY);
              });
      // "ignored" was applied first, so it would have been reconciled by now if it were watched
      LLMRoute ignored =
          client.resources(LLMRoute.class).inNamespace("ignored").withName("chat").get();
      assertThat(ignored.getStatus() == null || ignored.getStatus().getConditions().isEmpty())
          .isTrue();
      assertThat(ignored.getMetadata().getFinalizers()).isEmpty();
      assertThat(client.configMaps().inNamespace("ignored").withName(SidecarConfigMap.NAME).get())
          .isNull();
    }
  }
}
