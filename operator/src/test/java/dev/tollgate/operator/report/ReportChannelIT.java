package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.webhook.WebhookTls;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The channel's accounting sees the Budgets of the namespaces it watches (informers per namespace
 * when the operator is limited to some, for RBAC bound per namespace) and keeps the ledger in the
 * operator's namespace.
 */
@EnableKubernetesMockClient(crud = true)
class ReportChannelIT {
  static KubernetesClient client;

  @Test
  void aChannelLimitedToSomeNamespacesAnswersWithTheirBudgets() throws Exception {
    MockApi.apply(client, Fixtures.budget("team-a", "monthly", "10.00"));
    ReportChannel.Settings settings =
        new ReportChannel.Settings(
            0,
            Duration.ofMillis(100),
            Duration.ofSeconds(30),
            ConfigMapLedgerStore.DEFAULT_NAME,
            SidecarConfigMap.NAME,
            "tollgate-ops",
            Set.of("team-a"));
    WebhookTls tls = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
    TokenReviewer nobody = token -> Optional.empty();
    try (ReportChannel channel =
        ReportChannel.start(settings, client, tls.serverContext(), nobody, Clock.systemUTC())) {
      UsageReport report =
          UsageReport.builder("team-a", "pod-a", "uid-a", "boot", 1, null)
              .lines(
                  List.of(
                      UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                          .requests(2)
                          .inputTokens(10)
                          .outputTokens(5)
                          .costUsd("0.50")
                          .build()))
              .build();

      ReportReply reply = channel.accounting().submit(report).get(30, TimeUnit.SECONDS);

      assertThat(reply.acknowledgedSequence()).isEqualTo(1);
      assertThat(reply.budgets())
          .singleElement()
          .satisfies(b -> assertThat(b.percentUsed()).isEqualTo("5.00"));
      assertThat(client.configMaps().inNamespace("team-a").list().getItems()).isEmpty();
      assertThat(
              new ConfigMapLedgerStore(client, "tollgate-ops", "tollgate-spend")
                  .committed("team-a")
                  .budgets
                  .get("monthly")
                  .spent)
          .isEqualTo("0.50");
    }
  }
}
