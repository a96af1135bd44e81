package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.TollgateOperator;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.operator.webhook.WebhookTls;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two operator replicas against one API server: only the Lease holder serves reports (and so writes
 * spend ledgers); the standby's report port is closed until it takes over.
 */
@EnableKubernetesMockClient(crud = true)
class ReportLeadershipIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @Test
  void onlyTheLeaderServesReportsAndTheStandbyStartsWhenItLeads() throws Exception {
    MockApi.patientAwaits();
    allowLeases();
    WebhookTls tls = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
    LeaderOnlyReports reportsA = reports(tls);
    LeaderOnlyReports reportsB = reports(tls);
    TollgateOperator a = replica("replica-a", reportsA);
    TollgateOperator b = replica("replica-b", reportsB);
    try {
      a.start();
      await().until(() -> "replica-a".equals(holder()));
      b.start();
      await().until(() -> reportsA.channel().isPresent());
      int portA = reportsA.channel().orElseThrow().port();
      assertThat(listening(portA)).isTrue();

      // the standby keeps out: no report endpoint while the other replica holds the Lease
      Thread.sleep(2_000);
      assertThat(b.isLeading()).isFalse();
      assertThat(reportsB.channel()).isEmpty();

      a.close();
      await().until(() -> reportsB.channel().isPresent());
      assertThat(holder()).isEqualTo("replica-b");
      assertThat(listening(reportsB.channel().orElseThrow().port())).isTrue();
      assertThat(reportsA.channel()).as("the old leader closed its endpoint").isEmpty();
      assertThatThrownBy(() -> new Socket("127.0.0.1", portA).close())
          .isInstanceOf(ConnectException.class);
    } finally {
      a.close();
      b.close();
    }
  }

  private static LeaderOnlyReports reports(WebhookTls tls) {
    return new LeaderOnlyReports(
        () ->
            ReportChannel.start(
                new ReportChannel.Settings(
                    0,
                    Duration.ofMillis(100),
                    Duration.ofSeconds(30),
                    ConfigMapLedgerStore.DEFAULT_NAME),
                client,
                tls.serverContext(),
                new FakeTokenReviewer(),
                Clock.systemUTC()));
  }

  private static TollgateOperator replica(String identity, LeaderOnlyReports reports) {
    return new TollgateOperator(
        MockApi.config(true, identity),
        server.createClient(),
        new OperatorMetrics(new PrometheusRegistry()),
        Clock.systemUTC(),
        false,
        reports::startLeading,
        reports::stopLeading);
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  /** JOSDK checks with a SelfSubjectRulesReview that it may use Leases; the mock cannot answer. */
  private static void allowLeases() {
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(
            201,
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
                .build())
        .always();
  }

  private static String holder() {
    Lease lease =
        client.leases().inNamespace("tollgate-system").withName("tollgate-operator").get();
    return lease == null ? null : lease.getSpec().getHolderIdentity();
  }
}
