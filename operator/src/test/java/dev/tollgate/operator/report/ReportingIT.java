package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.api.v1alpha1.Health;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.report.ReporterSettings;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import dev.tollgate.simulator.SimulatorStats;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
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
 * The reporting channel end to end: the operator and its report endpoint on the mock API server in
 * CRUD mode, sidecars reporting over HTTPS with tokens, the provider simulator serving them. Each
 * test uses its own namespace.
 */
@EnableKubernetesMockClient(crud = true)
class ReportingIT {
  // gpt-4o: 5 USD per million input tokens, 15 per million output tokens
  private static final int INPUT = 1000;
  private static final int OUTPUT = 500;
  private static final BigDecimal PER_CALL = new BigDecimal("0.0125");
  private static final ObjectMapper JSON = new ObjectMapper();

  static KubernetesClient client;
  static ReportingCluster cluster;
  static OperatorMetrics metrics;
  static ProviderSimulator sim;

  @TempDir Path dir;
  private ReportChannel channel;
  @RegisterExtension final ClosedAfterTest toClose = new ClosedAfterTest();
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "reporting-it");
    metrics = cluster.metrics;
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
  void spendIsWrittenBackOnceAcrossRetriesAndAnOperatorRestart() throws Exception {
    String ns = "spend";
    setUp(ns, "10.00", BudgetSpec.ExceededAction.ALERT_ONLY, null);
    Sidecar a = sidecar(ns, "pod-a");
    Sidecar b = sidecar(ns, "pod-b");
    call(a, 30);
    call(b, 20);

    // 50 calls of 0.0125 = 0.625 = 6.25 % of 10.00: below the first threshold
    Budget budget = awaitSpent(ns, "0.625");
    BudgetStatus s = budget.getStatus();
    assertThat(s.getPhase()).isEqualTo(BudgetStatus.Phase.OK);
    assertThat(s.getRemaining()).isEqualTo("9.375");
    assertThat(s.getPercentUsed()).isEqualTo("6.25");
    assertThat(s.getPeriodStart()).endsWith("T00:00:00Z");
    assertThat(s.getByRoute())
        .singleElement()
        .satisfies(i -> assertThat(i.getRequests()).isEqualTo(50));
    assertThat(s.getByModel())
        .extracting(BudgetStatus.SpendItem::getName)
        .containsExactly("openai/gpt-4o");
    assertThat(new BigDecimal(ledger(ns).budgets.get("monthly").spent))
        .isEqualByComparingTo(simulatorCost(sim.stats()));

    // the operator goes away and a new instance takes over on the same API server: sidecars keep
    // their usage meanwhile and deliver it once
    channel.close();
    channel = null;
    call(a, 10);
    call(b, 10);
    startChannel();
    Budget after = awaitSpent(ns, "0.875");
    assertThat(new BigDecimal(ledger(ns).budgets.get("monthly").spent))
        .isEqualByComparingTo(simulatorCost(sim.stats()));
    assertThat(after.getStatus().getByRoute().get(0).getRequests()).isEqualTo(70);

    // a report resent with the same sequence (its acknowledgement was lost) counts once
    UsageReport report =
        UsageReport.builder(ns, "pod-c", "uid-c", "boot-1", 1, null)
            .lines(
                List.of(
                    UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                        .requests(8)
                        .inputTokens(8000)
                        .outputTokens(4000)
                        .costUsd("0.1000")
                        .build()))
            .build();
    assertThat(post(report, FakeTokenReviewer.token(ns, "pod-c")).statusCode()).isEqualTo(200);
    assertThat(post(report, FakeTokenReviewer.token(ns, "pod-c")).statusCode()).isEqualTo(200);
    await().until(() -> "0.975".equals(spent(ns)));
    assertThat(ledger(ns).routes.get("chat").requests).isEqualTo(78);

    // the final report on shutdown delivers calls that no periodic report carried yet
    call(a, 2);
    a.close();
    toClose.remove(a);
    assertThat(ledger(ns).routes.get("chat").requests).isEqualTo(80);

    // the route's status shows its usage and the share each target served
    await()
        .untilAsserted(
            () -> {
              LLMRoute route =
                  client.resources(LLMRoute.class).inNamespace(ns).withName("chat").get();
              assertThat(route.getStatus().getUsage().getRequests()).isEqualTo(80);
              assertThat(route.getStatus().getUsage().getSpend()).isEqualTo("1.00");
              assertThat(route.getStatus().getUsage().getInputTokens()).isEqualTo(80_000);
              // by endpoint kind: the sidecars' chat calls (the hand-made report has none)
              assertThat(route.getStatus().getUsage().getByEndpoint())
                  .containsOnlyKeys("chat")
                  .hasEntrySatisfying("chat", e -> assertThat(e.getRequests()).isEqualTo(72));
              assertThat(route.getStatus().getTargets())
                  .singleElement()
                  .satisfies(t -> assertThat(t.getSharePercent()).isEqualTo("100.0"));
              // pod-b and pod-c (the hand-made report) are live; pod-a ended with its final
              // report. pod-b runs the rendered version, pod-c named none
              assertThat(route.getStatus().getSidecars().getTotal()).isEqualTo(2);
              assertThat(route.getStatus().getSidecars().getUpToDate()).isEqualTo(1);
              ProviderCredential openai =
                  client
                      .resources(ProviderCredential.class)
                      .inNamespace(ns)
                      .withName("openai")
                      .get();
              assertThat(openai.getStatus().getOverallHealth()).isEqualTo(Health.HEALTHY);
              assertThat(openai.getStatus().getHealth())
                  .singleElement()
                  .satisfies(
                      h -> {
                        assertThat(h.getModel()).isEqualTo("gpt-4o");
                        assertThat(h.getErrorRatePercent()).isEqualTo("0.0");
                        assertThat(h.getReportingPods()).isEqualTo(3);
                      });
            });
  }

  @Test
  void twoReplicasServingReportsCountEachOnce() throws Exception {
    String ns = "replicas";
    setUp(ns, "10.00", BudgetSpec.ExceededAction.ALERT_ONLY, null);
    // a second operator replica's report endpoint on the same API server
    ReportChannel second = cluster.channel();
    toClose.add(second);
    Sidecar a = sidecar(ns, "pod-a", channel.port());
    Sidecar b = sidecar(ns, "pod-b", second.port());
    call(a, 20);
    call(b, 20);
    // the same report delivered to both replicas at once (a retry that went elsewhere)
    UsageReport report =
        UsageReport.builder(ns, "pod-c", "uid-c", "boot-1", 1, null)
            .lines(
                List.of(
                    UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                        .requests(4)
                        .inputTokens(4000)
                        .outputTokens(2000)
                        .costUsd("0.0500")
                        .build()))
            .build();
    var first =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> postUnchecked(report, channel.port()));
    var other =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> postUnchecked(report, second.port()));
    assertThat(first.get()).isEqualTo(200);
    assertThat(other.get()).isEqualTo(200);
    a.reporter().flush(Duration.ofSeconds(10));
    b.reporter().flush(Duration.ofSeconds(10));
    // 40 calls of 0.0125 plus the report's 0.05, once
    assertThat(new BigDecimal(ledger(ns).budgets.get("monthly").spent))
        .isEqualByComparingTo(simulatorCost(sim.stats()).add(new BigDecimal("0.05")))
        .isEqualByComparingTo("0.55");
    assertThat(ledger(ns).routes.get("chat").requests).isEqualTo(44);
  }

  @Test
  void thresholdsAreAnnouncedOncePerPeriodAndTheGaugeFollows() throws Exception {
    String ns = "alerts";
    setUp(ns, "0.20", BudgetSpec.ExceededAction.ALERT_ONLY, null);
    Sidecar a = sidecar(ns, "pod-a");
    call(a, 9); // 0.1125 = 56.25 %
    awaitSpent(ns, "0.1125");
    call(a, 6); // 0.1875 = 93.75 %
    Budget budget = awaitSpent(ns, "0.1875");
    assertThat(budget.getStatus().getAlertsFired()).containsExactly(50, 90);
    assertThat(budget.getStatus().getPhase()).isEqualTo(BudgetStatus.Phase.WARNING);
    assertThat(condition(budget, Conditions.WARNING)).isEqualTo("True");
    call(a, 2); // AlertOnly: served beyond the limit
    budget = awaitSpent(ns, "0.2125");
    assertThat(budget.getStatus().getPhase()).isEqualTo(BudgetStatus.Phase.EXCEEDED);
    assertThat(condition(budget, Conditions.EXCEEDED)).isEqualTo("True");
    await()
        .untilAsserted(
            () ->
                assertThat(thresholdEvents(ns))
                    .hasSize(2)
                    .anyMatch(m -> m.contains("reached 50%"))
                    .anyMatch(m -> m.contains("reached 90%"))
                    // full precision: the status and the Event say what the ledger holds
                    .anyMatch(m -> m.contains("(0.1875 of 0.20 USD spent")));
    assertThat(
            metrics.registry().scrape().stream()
                .filter(m -> m.getMetadata().getName().equals("tollgate_budget_used_percent"))
                .flatMap(m -> m.getDataPoints().stream())
                .map(
                    d ->
                        d.getLabels().get("namespace")
                            + "/"
                            + d.getLabels().get("budget")
                            + "="
                            + ((io.prometheus.metrics.model.snapshots.GaugeSnapshot
                                        .GaugeDataPointSnapshot)
                                    d)
                                .getValue()))
        .contains("alerts/monthly=106.25");
  }

  @Test
  void blockAnswersBudgetExceededInTheCallersFormatWithinOneCallOfTheLimit() throws Exception {
    String ns = "block";
    setUp(ns, "0.10", BudgetSpec.ExceededAction.BLOCK, null);
    Sidecar a = sidecar(ns, "pod-a");
    call(a, 1);
    await().until(() -> a.reporter().acknowledged() >= 1); // the sidecar holds an allowance now
    int served = 1;
    HttpResponse<String> last;
    while ((last = chat(a)).statusCode() == 200) {
      served++;
      assertThat(served).as("calls served before the block").isLessThan(20);
    }
    assertThat(last.statusCode()).isEqualTo(429);
    JsonNode error = JSON.readTree(last.body()).path("error");
    assertThat(error.path("type").asText()).isEqualTo("insufficient_quota");
    assertThat(error.path("message").asText()).contains("budget monthly");
    HttpResponse<String> anthropic = messages(a);
    assertThat(anthropic.statusCode()).isEqualTo(429);
    assertThat(JSON.readTree(anthropic.body()).path("error").path("type").asText())
        .isEqualTo("rate_limit_error");
    // sequential calls: the sidecar stops once its allowance (all that remained) is used, so the
    // overshoot is at most the one call that used it up
    BigDecimal spent = PER_CALL.multiply(BigDecimal.valueOf(served));
    assertThat(spent).isLessThan(new BigDecimal("0.10").add(PER_CALL));
    awaitSpent(ns, dev.tollgate.operator.status.BudgetSpendStatus.money(spent));
  }

  @Test
  void downgradeServesTheNamedTierOnceTheBudgetIsSpent() throws Exception {
    String ns = "downgrade";
    setUp(ns, "0.05", BudgetSpec.ExceededAction.DOWNGRADE, "cheap");
    Sidecar a = sidecar(ns, "pod-a");
    call(a, 1);
    await().until(() -> a.reporter().acknowledged() >= 1);
    // Spend past the limit: gpt-4o while this pod's allowances last, the cheap tier in between
    // (an allowance used up downgrades until the next reply grants another).
    await()
        .until(
            () -> {
              assertThat(chat(a).statusCode()).isEqualTo(200);
              SpendLedger.BudgetSpend spend = ledger(ns).budgets.get("monthly");
              return spend != null && spend.spentUsd().compareTo(new BigDecimal("0.05")) >= 0;
            });
    // once a reply has told the sidecar the budget is Exceeded, every call is downgraded
    long seen = a.reporter().acknowledged();
    await().until(() -> a.reporter().acknowledged() > seen);
    HttpResponse<String> r = chat(a);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-tollgate-model")).hasValue("gpt-4o-mini");
    assertThat(r.headers().firstValue("x-tollgate-tier")).hasValue("cheap");
  }

  @Test
  void aPodCannotReportForAnotherNamespace() throws Exception {
    String ns = "tenant-a";
    setUp(ns, "1.00", BudgetSpec.ExceededAction.BLOCK, null);
    UsageReport forOther =
        UsageReport.builder("tenant-b", "pod-x", "uid-x", "boot", 1, null).build();
    HttpResponse<String> r = post(forOther, FakeTokenReviewer.token(ns, "pod-x"));
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("may only report for namespace tenant-a");
    assertThat(post(forOther, "forged").statusCode()).isEqualTo(401);
    assertThat(ConfigMapLedgerStore.resource(client, "tenant-b").get()).isNull();
  }

  // ---- helpers ----

  @Test
  void aRestartedSidecarDeliversWhatItsPredecessorCouldNotAndStatusShowsTtft() throws Exception {
    String ns = "spool";
    setUp(ns, "10.00", BudgetSpec.ExceededAction.ALERT_ONLY, null);
    sim.behavior(
        SimulatorBehavior.defaults()
            .withUsage(INPUT, OUTPUT, 0, 0)
            .withTiming(Duration.ofMillis(60), 50_000));
    Path spool = dir.resolve("spool");
    Sidecar first = sidecar(ns, "pod-s", "uid-pod-s", spool);
    call(first, 5);
    await().until(() -> routeRequests(ns) == 5);

    // the operator is away when the sidecar container stops: its final report stays in the spool
    channel.close();
    channel = null;
    call(first, 7);
    first.close();
    toClose.remove(first);
    try (var files = Files.list(spool)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .isNotEmpty()
          .allMatch(f -> f.startsWith("report-") && f.endsWith(".json"));
    }

    // the restarted container (same pod, new process) delivers it once, then reports its own calls
    startChannel();
    Sidecar second = sidecar(ns, "pod-s", "uid-pod-s", spool);
    stream(second, 4);
    await().until(() -> routeRequests(ns) == 16);
    assertThat(new BigDecimal(ledger(ns).budgets.get("monthly").spent))
        .isEqualByComparingTo(simulatorCost(sim.stats()));
    await()
        .untilAsserted(
            () -> {
              try (var files = Files.list(spool)) {
                assertThat(files.filter(f -> f.toString().endsWith(".json"))).isEmpty();
              }
            });
    // the first process holds no allowance any more and no longer counts as a live sidecar
    assertThat(ledger(ns).reporters.values())
        .filteredOn(r -> Boolean.TRUE.equals(r.ended))
        .singleElement()
        .satisfies(r -> assertThat(r.grants).isEmpty());

    // streamed calls give the credential its time to first token (the simulator waits 60 ms)
    await()
        .untilAsserted(
            () -> {
              ProviderCredential openai =
                  client
                      .resources(ProviderCredential.class)
                      .inNamespace(ns)
                      .withName("openai")
                      .get();
              assertThat(openai.getStatus().getHealth())
                  .singleElement()
                  .satisfies(
                      h -> {
                        assertThat(h.getTtftP50Millis()).isGreaterThanOrEqualTo(60);
                        assertThat(h.getTtftP95Millis())
                            .isGreaterThanOrEqualTo(h.getTtftP50Millis());
                      });
              LLMRoute route =
                  client.resources(LLMRoute.class).inNamespace(ns).withName("chat").get();
              assertThat(route.getStatus().getTargets())
                  .singleElement()
                  .satisfies(
                      t -> {
                        assertThat(t.getCircuit()).isEqualTo("Closed");
                        assertThat(t.getHealth()).isEqualTo(Health.HEALTHY);
                        assertThat(t.getTier()).isEqualTo("main");
                      });
            });
  }

  private void setUp(
      String ns, String limit, BudgetSpec.ExceededAction action, String downgradeTier)
      throws Exception {
    sim.reset();
    sim.behavior(SimulatorBehavior.defaults().withUsage(INPUT, OUTPUT, 0, 0));
    ProviderCredential credential = cluster.simulatedCredential(ns);
    MockApi.apply(client, credential);
    Budget budget = Fixtures.budget(ns, "monthly", limit);
    budget.getSpec().setOnExceeded(action);
    if (downgradeTier != null) {
      BudgetSpec.Downgrade d = new BudgetSpec.Downgrade();
      d.setTier(downgradeTier);
      budget.getSpec().setDowngrade(d);
    }
    MockApi.apply(client, budget);
    LLMRoute route =
        Fixtures.withBudget(
            Fixtures.route(
                ns,
                "chat",
                "chat",
                Fixtures.tier("main", "openai", "gpt-4o"),
                Fixtures.tier("cheap", "openai", "gpt-4o-mini")),
            "monthly");
    // "main" takes every request (the first tier without rules); "cheap" only serves downgrades
    MockApi.apply(client, route);
    cluster.mountConfig(ns, "monthly", dir);
    startChannel();
  }

  private void startChannel() throws Exception {
    channel = cluster.channel(reportPort, Duration.ofSeconds(30));
    reportPort = channel.port();
  }

  // sidecars keep the URL across an operator restart, so the restarted channel takes the old port
  private int reportPort;

  private Sidecar sidecar(String ns, String pod) throws Exception {
    return sidecar(ns, pod, channel.port());
  }

  private Sidecar sidecar(String ns, String pod, int reportPort) throws Exception {
    Sidecar s =
        ReportingCluster.sidecar(
            dir,
            cluster.reporting(dir, ns, pod, "uid-" + pod + "-" + UUID.randomUUID(), reportPort));
    toClose.add(s);
    return s;
  }

  private Sidecar sidecar(String ns, String pod, String uid, Path spool) throws Exception {
    ReporterSettings settings = cluster.reporting(dir, ns, pod, uid, reportPort);
    Sidecar s =
        Sidecar.start(
            dir.resolve("config.yaml"),
            0,
            1,
            Duration.ofMillis(200),
            settings,
            spool,
            dir.resolve("secrets"));
    toClose.add(s);
    return s;
  }

  private void stream(Sidecar s, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(s.baseUrl() + "/v1/chat/completions"))
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"model\":\"chat\",\"stream\":true,"
                              + "\"stream_options\":{\"include_usage\":true},"
                              + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("data: [DONE]");
    }
  }

  private void call(Sidecar s, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      assertThat(chat(s).statusCode()).isEqualTo(200);
    }
  }

  private HttpResponse<String> chat(Sidecar s) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(s.baseUrl() + "/v1/chat/completions"))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> messages(Sidecar s) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(s.baseUrl() + "/v1/messages"))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"model\":\"chat\",\"max_tokens\":50,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private int postUnchecked(UsageReport report, int port) {
    try {
      return cluster.postReport(port, report);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private HttpResponse<String> post(UsageReport report, String token) throws Exception {
    return cluster.postReport(channel.port(), report, token);
  }

  private static BigDecimal simulatorCost(SimulatorStats stats) {
    return BigDecimal.valueOf(stats.inputTokens())
        .multiply(new BigDecimal("0.000005"))
        .add(BigDecimal.valueOf(stats.outputTokens()).multiply(new BigDecimal("0.000015")));
  }

  /** Requests the operator's ledger counts for route chat; 0 before the first report. */
  private static long routeRequests(String ns) {
    SpendLedger.RouteUsage u = ConfigMapLedgerStore.read(client, ns).routes.get("chat");
    return u == null ? 0 : u.requests;
  }

  /** The ledger as committed (the ledger object and its journal not yet folded in). */
  private static SpendLedger ledger(String ns) {
    return ConfigMapLedgerStore.read(client, ns);
  }

  private static String spent(String ns) {
    Budget b = client.resources(Budget.class).inNamespace(ns).withName("monthly").get();
    return b == null || b.getStatus() == null ? null : b.getStatus().getSpent();
  }

  private static Budget awaitSpent(String ns, String amount) {
    try {
      await().until(() -> amount.equals(spent(ns)));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          "spent never became "
              + amount
              + "; status: "
              + client.resources(Budget.class).inNamespace(ns).withName("monthly").get().getStatus()
              + "; ledger: "
              + ConfigMapLedgerStore.resource(client, ns).get(),
          e);
    }
    return client.resources(Budget.class).inNamespace(ns).withName("monthly").get();
  }

  private static String condition(Budget b, String type) {
    return Conditions.find(b.getStatus().getConditions(), type).orElseThrow().getStatus();
  }

  private static List<String> thresholdEvents(String ns) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> "ThresholdReached".equals(e.getReason()))
        .map(Event::getMessage)
        .toList();
  }
}
