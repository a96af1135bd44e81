package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.simulator.SimulatorBehavior;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attribution end to end: an app calls a sidecar through the official OpenAI SDK with an end user
 * (the body's {@code user}, or the {@code x-tollgate-user} header) and a feature tag; the sidecar,
 * which knows its pod's workload as the webhook resolved it, reports to the operator's endpoint;
 * Budget and LLMRoute status show the users, features and the workload. A report sent twice counts
 * once.
 */
@EnableKubernetesMockClient(crud = true)
class AttributionReportIT {
  static KubernetesClient client;
  static ReportingCluster cluster;

  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "attribution-it");
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private ReportChannel setUp(String ns) throws Exception {
    cluster.sim.reset();
    cluster.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 500, 0, 0));
    MockApi.apply(client, cluster.simulatedCredential(ns));
    Budget budget = Fixtures.budget(ns, "monthly", "10.00");
    budget.getSpec().setOnExceeded(BudgetSpec.ExceededAction.ALERT_ONLY);
    MockApi.apply(client, budget);
    MockApi.apply(
        client,
        Fixtures.withBudget(
            Fixtures.route(ns, "chat", "chat", Fixtures.tier("main", "openai", "gpt-4o")),
            "monthly"));
    cluster.mountConfig(ns, "gpt-4o", dir);
    return cluster.channel();
  }

  @Test
  void usersFeaturesAndTheWorkloadReachBudgetAndRouteStatus() throws Exception {
    String ns = "shop";
    try (ReportChannel channel = setUp(ns);
        Sidecar sidecar =
            ReportingCluster.sidecar(
                dir,
                cluster.reporting(
                    dir, ns, "checkout-7d9f8b6c5d-x2x4q", "uid-checkout", channel.port()))) {
      // what the webhook put in the sidecar's environment (TOLLGATE_WORKLOAD_*)
      sidecar
          .reporter()
          .withWorkload(new UsageReport.Workload("Deployment", "checkout", "checkout-sa", "api"));
      OpenAIClient openai =
          OpenAIOkHttpClient.builder()
              .baseUrl(sidecar.baseUrl() + "/v1")
              .apiKey("app-key-ignored")
              .maxRetries(0)
              .build();
      try {
        ChatCompletionCreateParams alice =
            ChatCompletionCreateParams.builder()
                .model("chat")
                .addUserMessage("hi")
                .user("alice")
                .putAdditionalHeader("x-tollgate-feature", "search")
                .build();
        openai.chat().completions().create(alice);
        openai.chat().completions().create(alice);
        openai
            .chat()
            .completions()
            .create(
                ChatCompletionCreateParams.builder()
                    .model("chat")
                    .addUserMessage("hi")
                    .putAdditionalHeader("x-tollgate-user", "bob")
                    .putAdditionalHeader("x-tollgate-feature", "summarize")
                    .build());
      } finally {
        openai.close();
      }

      await()
          .untilAsserted(
              () -> {
                BudgetStatus s =
                    client
                        .resources(Budget.class)
                        .inNamespace(ns)
                        .withName("monthly")
                        .get()
                        .getStatus();
                assertThat(s.getTopUsers())
                    .extracting(
                        BudgetStatus.SpendItem::getName, BudgetStatus.SpendItem::getRequests)
                    .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("alice", 2L),
                        org.assertj.core.groups.Tuple.tuple("bob", 1L));
                // 1,000 + 500 tokens at $5 / $15 per million: 0.0125 a call
                assertThat(s.getTopUsers().get(0).getSpent()).isEqualTo("0.025");
                assertThat(s.getTopFeatures())
                    .extracting(BudgetStatus.SpendItem::getName)
                    .containsExactly("search", "summarize");
                assertThat(s.getByWorkload()).hasSize(1);
                assertThat(s.getByWorkload().get(0).getName()).isEqualTo("Deployment/checkout");
                assertThat(s.getByWorkload().get(0).getRequests()).isEqualTo(3);
                assertThat(s.getByWorkload().get(0).getSpent()).isEqualTo("0.0375");
              });
      await()
          .untilAsserted(
              () -> {
                LLMRoute route =
                    client.resources(LLMRoute.class).inNamespace(ns).withName("chat").get();
                assertThat(route.getStatus().getUsage().getTopUsers())
                    .extracting(BudgetStatus.SpendItem::getName)
                    .containsExactly("alice", "bob");
                assertThat(route.getStatus().getUsage().getByWorkload())
                    .extracting(BudgetStatus.SpendItem::getName)
                    .containsExactly("Deployment/checkout");
              });
    }
  }

  @Test
  void attributionOfAResentReportCountsOnce() throws Exception {
    String ns = "resent-attribution";
    try (ReportChannel channel = setUp(ns)) {
      UsageReport report =
          UsageReport.builder(ns, "pod-c", "uid-c", "boot-1", 1, null)
              .lines(
                  List.of(
                      UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                          .requests(2)
                          .inputTokens(2000)
                          .outputTokens(1000)
                          .costUsd("0.0250")
                          .build()))
              .attribution(
                  new UsageReport.Attribution(
                      new UsageReport.Workload("StatefulSet", "ledger", null, "ownerReference"),
                      List.of(new UsageReport.KeySpend("chat", "monthly", "carol", 2, "0.0250")),
                      List.of(new UsageReport.KeySpend("chat", "monthly", "search", 2, "0.0250"))))
              .build();
      assertThat(post(channel, report)).isEqualTo(200);
      assertThat(post(channel, report)).isEqualTo(200);
      SpendLedger ledger = ConfigMapLedgerStore.read(client, ns);
      SpendLedger.BudgetSpend budget = ledger.budgets.get("monthly");
      assertThat(budget.byUser.get("carol").requests).isEqualTo(2);
      assertThat(budget.byFeature.get("search").spent).isEqualTo("0.0250");
      assertThat(budget.byWorkload.get("StatefulSet/ledger").requests).isEqualTo(2);
      assertThat(ledger.routes.get("chat").byWorkload.get("StatefulSet/ledger").spent)
          .isEqualTo("0.0250");

      // a report with a key that is no identifier is refused whole, with the field named
      UsageReport bad =
          UsageReport.builder(ns, "pod-c", "uid-c", "boot-1", 2, null)
              .attribution(
                  new UsageReport.Attribution(
                      null,
                      List.of(new UsageReport.KeySpend("chat", "monthly", "carol smith", 1, "0")),
                      null))
              .build();
      assertThat(post(channel, bad)).isEqualTo(400);
    }
  }

  private int post(ReportChannel channel, UsageReport report) throws Exception {
    return cluster.postReport(channel.port(), report);
  }
}
