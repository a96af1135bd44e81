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
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/** Two replicas against one API server: only the Lease holder reconciles; the other takes over. */
@EnableKubernetesMockClient(crud = true)
class LeaderElectionIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @Test
  void onlyTheLeaderReconcilesAndTheOtherTakesOverWhenItStops() {
    MockApi.patientAwaits();
    allowLeases();
    OperatorMetrics metricsA = new OperatorMetrics(new PrometheusRegistry());
    OperatorMetrics metricsB = new OperatorMetrics(new PrometheusRegistry());
    TollgateOperator a =
        new TollgateOperator(
            MockApi.config(true, "replica-a"),
            server.createClient(),
            metricsA,
            Clock.systemUTC(),
            false);
    TollgateOperator b =
        new TollgateOperator(
            MockApi.config(true, "replica-b"),
            server.createClient(),
            metricsB,
            Clock.systemUTC(),
            false);
    try {
      a.start();
      await().until(() -> "replica-a".equals(holder()));
      b.start();

      String ns = "ha";
      MockApi.apply(client, secret(ns, "openai-key", "api-key"));
      MockApi.apply(client, credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
      MockApi.apply(client, route(ns, "first", "first", tier("t", "openai", "gpt-4o")));
      awaitReady(ns, "first");

      assertThat(reconciles(metricsA)).isPositive();
      assertThat(reconciles(metricsB))
          .as("the replica without the Lease reconciles nothing")
          .isZero();

      a.close();
      MockApi.apply(client, route(ns, "second", "second", tier("t", "openai", "gpt-4o")));
      awaitReady(ns, "second");

      assertThat(holder()).isEqualTo("replica-b");
      assertThat(reconciles(metricsB)).isPositive();
    } finally {
      a.close();
      b.close();
    }
  }

  /**
   * JOSDK checks with a SelfSubjectRulesReview that it may use Leases; the mock server cannot
   * answer one, so it is told to allow them.
   */
  private static void allowLeases() {
    SelfSubjectRulesReview review =
        new SelfSubjectRulesReviewBuilder()
            .withNewStatus()
            .withIncomplete(false)
            .addToResourceRules(
                new ResourceRuleBuilder()
                    .withApiGroups("coordination.k8s.io")
                    .withResources("leases")
                    .withVerbs("get", "create", "update")
                    .build())
            .endStatus()
            .build();
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(201, review)
        .always();
  }

  private static String holder() {
    Lease lease =
        client.leases().inNamespace("tollgate-system").withName("tollgate-operator").get();
    return lease == null ? null : lease.getSpec().getHolderIdentity();
  }

  private static void awaitReady(String ns, String name) {
    await()
        .until(
            () -> {
              LLMRoute r = client.resources(LLMRoute.class).inNamespace(ns).withName(name).get();
              return r != null
                  && r.getStatus() != null
                  && Conditions.isTrue(r.getStatus().getConditions(), Conditions.READY);
            });
  }

  private static double reconciles(OperatorMetrics metrics) {
    return metrics.registry().scrape().stream()
        .filter(s -> s.getMetadata().getName().equals("tollgate_operator_reconciles"))
        .flatMap(s -> ((CounterSnapshot) s).getDataPoints().stream())
        .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue)
        .sum();
  }
}
