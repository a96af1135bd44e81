package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.TollgateOperator;
import dev.tollgate.operator.batch.OpenBatches;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.operator.webhook.WebhookTls;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.SecretMounts;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.report.ReporterSettings;
import dev.tollgate.simulator.ProviderSimulator;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What the report ITs share: the operator on the mock API server, a CA for its report endpoint
 * ({@code localhost}), one provider simulator, and stand-ins for the kubelet (the rendered
 * configuration and the API key as files) and for a pod (a sidecar with its ServiceAccount token).
 * Start it in {@code @BeforeAll} on the test class's mock client, close it in {@code @AfterAll}.
 */
final class ReportingCluster implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The value of the tests' API key ({@code Secret openai-key}, key {@code api-key}). */
  static final String API_KEY = "sk-test";

  final KubernetesClient client;
  final OperatorMetrics metrics;
  final TollgateOperator operator;
  final WebhookTls tls;
  final ProviderSimulator sim;

  private ReportingCluster(KubernetesClient client, String identity) throws Exception {
    MockApi.patientAwaits();
    this.client = client;
    metrics = new OperatorMetrics(new PrometheusRegistry());
    operator =
        new TollgateOperator(
            MockApi.config(false, identity), client, metrics, Clock.systemUTC(), false);
    operator.start();
    tls = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
    sim = ProviderSimulator.start();
  }

  /** Starts the operator (Lease identity {@code identity}) and the simulator. */
  static ReportingCluster start(KubernetesClient client, String identity) throws Exception {
    return new ReportingCluster(client, identity);
  }

  /**
   * A report endpoint of the operator, as a replica serves it: HTTPS with this cluster's CA, group
   * commit every 100 ms, tokens checked by {@link FakeTokenReviewer}.
   *
   * @param port 0 for any free port
   * @param liveness how long a sidecar that stopped reporting keeps its share of account limits
   */
  ReportChannel channel(int port, Duration liveness) throws IOException {
    return ReportChannel.start(
        new ReportChannel.Settings(
            port, Duration.ofMillis(100), liveness, ConfigMapLedgerStore.DEFAULT_NAME),
        client,
        tls.serverContext(),
        new FakeTokenReviewer(),
        Clock.systemUTC(),
        operator.renderedConfigs());
  }

  /**
   * A report endpoint that meters provider batches as {@code batches} say (poll interval, the
   * provider clients or a fake), sidecars live for 30 s without a report.
   *
   * @param port 0 for any free port
   */
  ReportChannel batchChannel(int port, dev.tollgate.operator.batch.BatchMeter.Settings batches)
      throws IOException {
    return ReportChannel.start(
        new ReportChannel.Settings(
            port,
            Duration.ofMillis(100),
            Duration.ofSeconds(30),
            ConfigMapLedgerStore.DEFAULT_NAME),
        client,
        tls.serverContext(),
        new FakeTokenReviewer(),
        Clock.systemUTC(),
        operator.renderedConfigs(),
        batches);
  }

  /** The gauge {@code tollgate_budget_batch_spent_usd} of {@code ns}, -1 when it has none. */
  double batchGauge(String ns) {
    return metrics.registry().scrape().stream()
        .filter(m -> m.getMetadata().getPrometheusName().equals("tollgate_budget_batch_spent_usd"))
        .flatMap(m -> m.getDataPoints().stream())
        .filter(d -> ns.equals(d.getLabels().get("namespace")))
        .mapToDouble(
            d ->
                ((io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot) d)
                    .getValue())
        .findFirst()
        .orElse(-1);
  }

  /** The reasons of the Events in {@code ns}. */
  List<String> eventReasons(String ns) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .map(io.fabric8.kubernetes.api.model.Event::getReason)
        .toList();
  }

  /** The messages of the Events in {@code ns} with {@code reason}. */
  List<String> eventMessages(String ns, String reason) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> reason.equals(e.getReason()))
        .map(io.fabric8.kubernetes.api.model.Event::getMessage)
        .toList();
  }

  /** {@link #channel(int, Duration)} on a free port, sidecars live for 30 s without a report. */
  ReportChannel channel() throws IOException {
    return channel(0, Duration.ofSeconds(30));
  }

  /**
   * Applies Secret {@code openai-key} to {@code ns} and returns ProviderCredential {@code openai}
   * with the simulator as its endpoint, for the test to complete and apply. Its gpt-4o is priced at
   * $5 / $15 per million tokens (a credential override), so the tests' arithmetic (0.0125 per call
   * of 1,000 + 500 tokens) does not move when the release's price catalogue does.
   */
  ProviderCredential simulatedCredential(String ns) {
    MockApi.apply(client, Fixtures.secret(ns, "openai-key", "api-key"));
    ProviderCredential credential =
        Fixtures.credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key");
    credential.getSpec().setEndpoint(sim.baseUrl() + "/v1");
    ProviderCredentialSpec.ModelPrice gpt4o = new ProviderCredentialSpec.ModelPrice();
    gpt4o.setModel("gpt-4o");
    gpt4o.setInput("5.00");
    gpt4o.setOutput("15.00");
    ProviderCredentialSpec.Pricing pricing = new ProviderCredentialSpec.Pricing();
    pricing.getModels().add(gpt4o);
    credential.getSpec().setPricing(pricing);
    return credential;
  }

  /**
   * Sets up namespace {@code ns} for Anthropic batches against the simulator: Secret {@code
   * anthropic-key}, ProviderCredential {@code anthropic} with {@code model} pinned at $1 / $5 per
   * million (a credential override, so the tests' arithmetic does not move with the catalogue;
   * Anthropic's 50% batch discount applies on top), Budget {@code monthly} of {@code limit} that
   * blocks, and route {@code support} on {@code model} drawing from it; then mounts the rendered
   * configuration and the key under {@code dir} as the kubelet would.
   */
  void anthropicNamespace(String ns, String model, String limit, Path dir) throws IOException {
    MockApi.apply(client, Fixtures.secret(ns, "anthropic-key", "api-key"));
    ProviderCredential credential =
        Fixtures.credential(ns, "anthropic", Provider.ANTHROPIC, "anthropic-key", "api-key");
    credential.getSpec().setEndpoint(sim.baseUrl());
    ProviderCredentialSpec.ModelPrice price = new ProviderCredentialSpec.ModelPrice();
    price.setModel(model);
    price.setInput("1.00");
    price.setOutput("5.00");
    ProviderCredentialSpec.Pricing pricing = new ProviderCredentialSpec.Pricing();
    pricing.getModels().add(price);
    credential.getSpec().setPricing(pricing);
    MockApi.apply(client, credential);
    blockingRoute(ns, limit, "anthropic", model, dir);
    Path key =
        Path.of(
            SecretMounts.keyFile(dir.resolve("secrets").toString(), "anthropic-key", "api-key"));
    Files.createDirectories(key.getParent());
    Files.writeString(key, Fixtures.API_KEY_VALUE);
  }

  /**
   * Sets up namespace {@code ns} for OpenAI calls and batches against the simulator: {@link
   * #simulatedCredential} (gpt-4o pinned at $5 / $15 per million, so $2.50 / $7.50 in a batch),
   * Budget {@code monthly} of {@code limit} that blocks, and route {@code support} on gpt-4o
   * drawing from it; then mounts the rendered configuration and the key under {@code dir}.
   */
  void openAiNamespace(String ns, String limit, Path dir) throws IOException {
    MockApi.apply(client, simulatedCredential(ns));
    blockingRoute(ns, limit, "openai", "gpt-4o", dir);
  }

  /**
   * Budget {@code monthly} of {@code limit} that blocks and route {@code support} on {@code model}
   * of {@code credential} drawing from it, the rendered configuration mounted under {@code dir}.
   */
  private void blockingRoute(String ns, String limit, String credential, String model, Path dir)
      throws IOException {
    dev.tollgate.api.v1alpha1.Budget budget = Fixtures.budget(ns, "monthly", limit);
    budget.getSpec().setOnExceeded(dev.tollgate.api.v1alpha1.BudgetSpec.ExceededAction.BLOCK);
    MockApi.apply(client, budget);
    MockApi.apply(
        client,
        Fixtures.withBudget(
            Fixtures.route(ns, "support", "support", Fixtures.tier("main", credential, model)),
            "monthly"));
    mountConfig(ns, "monthly", dir);
  }

  /**
   * Waits until Budget {@code monthly} of {@code ns} shows {@code spent} with {@code batchSpent} of
   * it from batches, on {@code model} marked {@code (batch)} in {@code byModel}, and the batch
   * spend gauge says the same.
   */
  void awaitBatchStatus(String ns, String spent, String batchSpent, String model) {
    await()
        .untilAsserted(
            () -> {
              dev.tollgate.api.v1alpha1.Budget b =
                  client
                      .resources(dev.tollgate.api.v1alpha1.Budget.class)
                      .inNamespace(ns)
                      .withName("monthly")
                      .get();
              assertThat(b.getStatus().getSpent()).isEqualTo(spent);
              assertThat(b.getStatus().getBatchSpent()).isEqualTo(batchSpent);
              assertThat(b.getStatus().getByModel())
                  .anySatisfy(
                      m -> {
                        assertThat(m.getName()).isEqualTo(model + " (batch)");
                        assertThat(m.getSpent()).isEqualTo(batchSpent);
                      });
              assertThat(batchGauge(ns)).isEqualTo(Double.parseDouble(batchSpent));
            });
  }

  /**
   * A crash between a batch's apply and its close, replayed: metered batch {@code id} of {@code ns}
   * is open again as {@code open} was, due now; waits until the meter has closed it again (and a
   * second longer, for a second apply to show).
   */
  static void replayMetered(OpenBatches books, String ns, String id, OpenBatches.Open open)
      throws InterruptedException {
    books.update(
        ns,
        b -> {
          b.done.remove(id);
          open.nextPollAt = Instant.now().toString();
          b.open.put(id, open);
          return b;
        });
    await().until(() -> books.read(ns).done.containsKey(id));
    Thread.sleep(1_000);
  }

  /**
   * Writes the API key file under {@code dir/secrets}, where {@link #sidecar} sidecars read the
   * Secrets the configuration names.
   *
   * @return the secrets directory
   */
  static Path writeApiKey(Path dir) throws IOException {
    Path secrets = dir.resolve("secrets");
    Path key = Path.of(SecretMounts.keyFile(secrets.toString(), "openai-key", "api-key"));
    Files.createDirectories(key.getParent());
    Files.writeString(key, API_KEY);
    return secrets;
  }

  /**
   * Waits until the operator rendered {@code ns}'s configuration with {@code expected} in it, then
   * mounts it as the kubelet would: {@code dir/config.yaml} (the operator's text byte for byte),
   * with the API key under {@code dir/secrets}.
   */
  void mountConfig(String ns, String expected, Path dir) throws IOException {
    await()
        .until(
            () -> {
              ConfigMap cm =
                  client.configMaps().inNamespace(ns).withName(SidecarConfigMap.NAME).get();
              return cm != null
                  && cm.getData() != null
                  && cm.getData().getOrDefault(SidecarConfigMap.KEY, "").contains(expected);
            });
    ConfigMap cm = client.configMaps().inNamespace(ns).withName(SidecarConfigMap.NAME).get();
    writeApiKey(dir);
    Files.writeString(dir.resolve("config.yaml"), cm.getData().get(SidecarConfigMap.KEY));
  }

  /**
   * How a sidecar of pod {@code ns/pod} reports to the endpoint on {@code port}: its token (in a
   * file under {@code dir}, as a projected token is), this cluster's CA, reports every 200 ms.
   */
  ReporterSettings reporting(Path dir, String ns, String pod, String podUid, int port)
      throws IOException {
    return reporting(dir, ns, pod, podUid, port, null);
  }

  /**
   * As {@link #reporting(Path, String, String, String, int)}, fetching the configuration from the
   * operator once the mounted one is stale for {@code configGrace} (null: the default).
   */
  ReporterSettings reporting(
      Path dir, String ns, String pod, String podUid, int port, Duration configGrace)
      throws IOException {
    Path token = dir.resolve(pod + ".token");
    Files.writeString(token, FakeTokenReviewer.token(ns, pod));
    return new ReporterSettings(
        URI.create("https://localhost:" + port + ReportServer.PATH),
        token,
        tls.caPem(),
        ns,
        pod,
        podUid,
        Duration.ofMillis(200),
        configGrace);
  }

  /**
   * A sidecar on {@code dir/config.yaml}, on a free port, reporting as {@code settings} say,
   * reading the Secrets from {@code dir/secrets} (see {@link #writeApiKey}).
   */
  static Sidecar sidecar(Path dir, ReporterSettings settings) throws Exception {
    return Sidecar.start(
        dir.resolve("config.yaml"),
        0,
        1,
        Duration.ofMillis(200),
        settings,
        null,
        dir.resolve("secrets"));
  }

  /** An HTTPS client that trusts this cluster's CA, for posting to a report endpoint directly. */
  HttpClient https() {
    return HttpClient.newBuilder().sslContext(tls.clientContextTrustingCa()).build();
  }

  /**
   * Posts {@code report} to the report endpoint on {@code port}, as a pod holding {@code token}.
   */
  HttpResponse<String> postReport(int port, UsageReport report, String token) throws Exception {
    return https()
        .send(
            HttpRequest.newBuilder(URI.create("https://localhost:" + port + ReportServer.PATH))
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(report)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** Posts {@code report} as the pod it names would (with that pod's token); the status code. */
  int postReport(int port, UsageReport report) throws Exception {
    return postReport(port, report, FakeTokenReviewer.token(report.namespace(), report.pod()))
        .statusCode();
  }

  @Override
  public void close() {
    operator.close();
    sim.close();
  }
}
