package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.budget.CallerKeys;
import dev.tollgate.sidecar.config.BudgetConfig;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-caller quotas end to end: the operator and its report endpoint on the mock API server in CRUD
 * mode, two sidecars of one namespace reporting over HTTPS, the provider simulator serving them;
 * callers named by {@code x-tollgate-user}, keys hashed.
 */
@EnableKubernetesMockClient(crud = true)
class CallerQuotaIT {
  // gpt-4o: 5 USD per million input tokens, 15 per million output tokens
  private static final int INPUT = 1000;
  private static final int OUTPUT = 500;
  private static final BigDecimal PER_CALL = new BigDecimal("0.0125");
  // eight calls' worth: the eighth call reaches it
  private static final String QUOTA = "0.10";
  private static final String HEADER = "x-tollgate-user";
  private static final ObjectMapper JSON = new ObjectMapper();

  static KubernetesClient client;
  static ReportingCluster cluster;
  static ProviderSimulator sim;

  @TempDir Path dir;
  private ReportChannel channel;
  @RegisterExtension final ClosedAfterTest toClose = new ClosedAfterTest();
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "caller-quota-it");
    sim = cluster.sim;
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @AfterEach
  void closeChannel() {
    if (channel != null) {
      channel.close();
    }
  }

  @Test
  void aCallerOverItsQuotaIsRefusedOnEverySidecarWhileOthersKeepWorking() throws Exception {
    String ns = "callers";
    setUp(ns);
    String alice = key(ns, "alice");
    String bob = key(ns, "bob");
    String podUidA = "uid-pod-a-" + UUID.randomUUID();
    Sidecar a = sidecar(ns, "pod-a", podUidA);
    Sidecar b = sidecar(ns, "pod-b", "uid-pod-b-" + UUID.randomUUID());
    await().until(() -> a.reporter().acknowledged() >= 1 && b.reporter().acknowledged() >= 1);

    // alice on pod-a, sequentially: served until her spend reaches the quota, then refused
    int aliceServed = 0;
    HttpResponse<String> refused;
    while ((refused = chat(a, "alice", false)).statusCode() == 200) {
      aliceServed++;
      assertThat(aliceServed).as("alice's calls served before the refusal").isLessThan(10);
    }
    // sequential calls on one sidecar: no call beyond the one that reached the quota
    assertThat(aliceServed).isEqualTo(8);
    assertThat(refused.statusCode()).isEqualTo(429);
    JsonNode error = JSON.readTree(refused.body()).path("error");
    assertThat(error.path("type").asText()).isEqualTo("insufficient_quota");
    assertThat(error.path("code").asText()).isEqualTo("budget_exceeded");
    assertThat(error.path("message").asText())
        .contains("caller " + alice, "quota of 0.10 USD")
        .doesNotContain("alice ");

    // bob keeps working on both sidecars, in both formats, streamed or not
    assertThat(chat(a, "bob", false).statusCode()).isEqualTo(200);
    assertThat(chat(a, "bob", true).statusCode()).isEqualTo(200);
    assertThat(messages(a, "bob").statusCode()).isEqualTo(200);
    assertThat(chat(b, "bob", true).statusCode()).isEqualTo(200);
    assertThat(messages(b, "bob").statusCode()).isEqualTo(200);
    int bobServed = 5;
    // a call without the header counts against the budget only
    assertThat(chat(a, null, false).statusCode()).isEqualTo(200);

    // the operator learns it from pod-a's report and tells pod-b with its next reply
    await()
        .untilAsserted(
            () -> assertThat(budget(ns).getStatus().getCallersOverQuota()).containsExactly(alice));
    // (the reply to a report applied in the same group commit as pod-a's may predate it; the
    // report after that one is applied later)
    long acked = b.reporter().acknowledged();
    await().until(() -> b.reporter().acknowledged() > acked + 1);
    HttpResponse<String> onB = messages(b, "alice");
    assertThat(onB.statusCode()).isEqualTo(429);
    assertThat(JSON.readTree(onB.body()).path("error").path("type").asText())
        .isEqualTo("rate_limit_error");
    assertThat(JSON.readTree(onB.body()).path("error").path("message").asText())
        .contains("caller " + alice);
    assertThat(chat(b, "alice", true).statusCode()).isEqualTo(429);
    assertThat(messages(b, "bob").statusCode()).isEqualTo(200);
    bobServed++;

    // pod-a's sidecar restarts (same pod, new process): its final report and the new process's
    // reports each count once
    a.close();
    toClose.remove(a);
    Sidecar a2 = sidecar(ns, "pod-a", podUidA);
    assertThat(chat(a2, "bob", false).statusCode()).isEqualTo(200);
    bobServed++;
    // the restarted sidecar knows nothing of alice until its first reply, which lists her
    await().until(() -> a2.reporter().acknowledged() >= 1);
    assertThat(chat(a2, "alice", false).statusCode()).isEqualTo(429);
    a2.reporter().flush(Duration.ofSeconds(10));
    b.reporter().flush(Duration.ofSeconds(10));

    BigDecimal aliceSpent = PER_CALL.multiply(BigDecimal.valueOf(aliceServed));
    BigDecimal bobSpent = PER_CALL.multiply(BigDecimal.valueOf(bobServed));
    int served = aliceServed + bobServed + 1;
    // exact against what the simulator served
    assertThat(sim.stats().requests()).isEqualTo(served);
    assertThat(PER_CALL.multiply(BigDecimal.valueOf(served)))
        .isEqualByComparingTo(
            BigDecimal.valueOf(sim.stats().inputTokens())
                .multiply(new BigDecimal("0.000005"))
                .add(
                    BigDecimal.valueOf(sim.stats().outputTokens())
                        .multiply(new BigDecimal("0.000015"))));
    SpendLedger ledger = ledger(ns);
    assertThat(new BigDecimal(ledger.budgets.get("monthly").spent))
        .isEqualByComparingTo(PER_CALL.multiply(BigDecimal.valueOf(served)));
    assertThat(ledger.budgets.get("monthly").byCaller).containsOnlyKeys(alice, bob);
    assertThat(new BigDecimal(ledger.budgets.get("monthly").byCaller.get(alice).spent))
        .isEqualByComparingTo(aliceSpent);
    assertThat(ledger.budgets.get("monthly").byCaller.get(bob).requests).isEqualTo(bobServed);

    // status: both callers, biggest first, hashed; one Event for alice, no raw key anywhere
    int bobs = bobServed;
    await()
        .untilAsserted(
            () -> {
              BudgetStatus s = budget(ns).getStatus();
              assertThat(s.getTopCallers())
                  .extracting(BudgetStatus.SpendItem::getName)
                  .containsExactly(alice, bob);
              assertThat(s.getTopCallers().get(0).getSpent()).isEqualTo("0.10");
              // the end users of a budget that hashes caller keys are shown as the same pseudonyms
              assertThat(s.getTopUsers())
                  .extracting(BudgetStatus.SpendItem::getName)
                  .containsExactly(alice, bob);
              assertThat(s.getTopCallers().get(0).getRequests()).isEqualTo(8);
              assertThat(s.getTopCallers().get(1).getRequests()).isEqualTo(bobs);
              assertThat(s.getTopCallers().get(1).getSpent())
                  .isEqualTo(dev.tollgate.operator.status.BudgetSpendStatus.money(bobSpent));
              assertThat(s.getSpent())
                  .isEqualTo(
                      dev.tollgate.operator.status.BudgetSpendStatus.money(
                          PER_CALL.multiply(BigDecimal.valueOf(served))));
            });
    List<Event> events = client.v1().events().inNamespace(ns).list().getItems();
    assertThat(events)
        .filteredOn(e -> "CallerQuotaExceeded".equals(e.getReason()))
        .singleElement()
        .satisfies(e -> assertThat(e.getMessage()).contains("Caller " + alice, "0.10 USD"));
    assertThat(events).allSatisfy(e -> assertThat(e.getMessage()).doesNotContain("alice", "bob"));
    assertThat(client.resources(Budget.class).inNamespace(ns).withName("monthly").get().toString())
        .doesNotContain("alice", "bob");
    assertThat(ConfigMapLedgerStore.resource(client, ns).get().getData().toString())
        .doesNotContain("alice", "bob");
  }

  @Test
  void callerSpendOfAResentReportCountsOnce() throws Exception {
    String ns = "resent";
    setUp(ns);
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
            .callers(List.of(new UsageReport.CallerSpend("monthly", "carol", 2, "0.0250")))
            .build();
    assertThat(post(report)).isEqualTo(200);
    assertThat(post(report)).isEqualTo(200);
    assertThat(ledger(ns).budgets.get("monthly").byCaller.get("carol").spent).isEqualTo("0.0250");
    assertThat(ledger(ns).budgets.get("monthly").byCaller.get("carol").requests).isEqualTo(2);
  }

  // ---- helpers ----

  private static String key(String ns, String user) {
    return CallerKeys.of(
        new BudgetConfig.CallerQuota(HEADER, new BigDecimal(QUOTA), true), ns, "monthly", user);
  }

  private void setUp(String ns) throws Exception {
    sim.reset();
    sim.behavior(SimulatorBehavior.defaults().withUsage(INPUT, OUTPUT, 0, 0));
    ProviderCredential credential = cluster.simulatedCredential(ns);
    MockApi.apply(client, credential);
    Budget budget = Fixtures.budget(ns, "monthly", "10.00");
    budget.getSpec().setOnExceeded(BudgetSpec.ExceededAction.ALERT_ONLY);
    BudgetSpec.CallerQuota quota = new BudgetSpec.CallerQuota();
    quota.setHeader(HEADER);
    quota.setLimit(QUOTA);
    quota.setHashKeys(true);
    budget.getSpec().setPerCaller(quota);
    MockApi.apply(client, budget);
    MockApi.apply(
        client,
        Fixtures.withBudget(
            Fixtures.route(ns, "chat", "chat", Fixtures.tier("main", "openai", "gpt-4o")),
            "monthly"));
    cluster.mountConfig(ns, HEADER, dir);
    channel = cluster.channel();
  }

  private Sidecar sidecar(String ns, String pod, String podUid) throws Exception {
    Sidecar s =
        ReportingCluster.sidecar(dir, cluster.reporting(dir, ns, pod, podUid, channel.port()));
    toClose.add(s);
    return s;
  }

  private HttpResponse<String> chat(Sidecar s, String user, boolean stream) throws Exception {
    String body =
        stream
            ? "{\"model\":\"chat\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
            : "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    return send(s, "/v1/chat/completions", user, body);
  }

  private HttpResponse<String> messages(Sidecar s, String user) throws Exception {
    return send(
        s,
        "/v1/messages",
        user,
        "{\"model\":\"chat\",\"max_tokens\":1000,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  }

  private HttpResponse<String> send(Sidecar s, String path, String user, String body)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(s.baseUrl() + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (user != null) {
      r.header(HEADER, user);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private int post(UsageReport report) throws Exception {
    return cluster.postReport(channel.port(), report);
  }

  /** The ledger as committed (the ledger object and its journal not yet folded in). */
  private static SpendLedger ledger(String ns) {
    return ConfigMapLedgerStore.read(client, ns);
  }

  private static Budget budget(String ns) {
    return client.resources(Budget.class).inNamespace(ns).withName("monthly").get();
  }
}
