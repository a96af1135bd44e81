package dev.tollgate.local;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.operator.OperatorConfig;
import dev.tollgate.operator.TollgateOperator;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.operator.report.ReportChannel;
import dev.tollgate.operator.report.ReportServer;
import dev.tollgate.operator.webhook.WebhookTls;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import dev.tollgate.sidecar.report.ReporterSettings;
import dev.tollgate.simulator.Fault;
import dev.tollgate.simulator.ProviderSimulator;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * Local mode: the whole system in one process without a cluster. An embedded Kubernetes API
 * (fabric8's mock server in CRUD mode), the operator, provider simulators (one per
 * ProviderCredential, so one provider can fail alone) and sidecars reading the ConfigMap the
 * operator renders, as the kubelet would project it. It applies an example, drives traffic through
 * the sidecars with an outage of the primary provider part of the way, and prints what a platform
 * engineer would look at. This class starts and stops the parts in order; {@link Simulators},
 * {@link PodMounts}, {@link TrafficDriver}, {@link StatusTables} and {@link Summary} do the work.
 */
public final class LocalMode implements AutoCloseable {

  private final LocalOptions options;
  private final PrintStream out;
  private final Path workDir;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final Simulators simulators = new Simulators();

  private final List<Sidecar> sidecars = new ArrayList<>();
  private NamespacedKubernetesClient client;
  private PodMounts mounts;
  private TollgateOperator operator;
  private StatusTables tables;
  private int step;
  // the report endpoint the sidecars of this run report to (local mode: generated CA, in-process
  // token check), set up once the example's namespace is known
  private ReportChannel reports;
  private WebhookTls reportTls;
  private LocalTokenReviewer reportTokens;

  LocalMode(LocalOptions options, PrintStream out) throws IOException {
    this.options = options;
    this.out = out;
    this.workDir = Files.createTempDirectory("tollgate-local-");
  }

  /** Entry point of the {@code local} command; returns the process exit code. */
  public static int run(String[] args, PrintStream out) {
    LocalOptions options;
    try {
      options = LocalOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    if (options.verbose()) {
      CallLines.printTo(out);
    } else {
      quietLogs();
    }
    try (LocalMode local = new LocalMode(options, out)) {
      return local.execute();
    } catch (LocalModeException e) {
      System.err.println("local: " + e.getMessage());
      return 1;
    } catch (Exception e) {
      System.err.println("local: failed: " + e);
      e.printStackTrace(System.err);
      return 1;
    }
  }

  /** Keeps the console for the report: the components log warnings only. */
  private static void quietLogs() {
    Map.of(
            org.slf4j.Logger.ROOT_LOGGER_NAME,
            ch.qos.logback.classic.Level.WARN,
            "io.javaoperatorsdk",
            ch.qos.logback.classic.Level.WARN,
            // "unstable version v1alpha1" is true and said once per informer: noise here.
            "io.fabric8.kubernetes.client.dsl.internal.VersionUsageUtils",
            ch.qos.logback.classic.Level.ERROR)
        .forEach(
            (name, level) ->
                ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(name))
                    .setLevel(level));
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  // Held so java.util.logging keeps the level (it references loggers weakly).
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  int execute() throws Exception {
    Path exampleDir = options.examplesDir().resolve(options.example());
    if (!Files.isDirectory(exampleDir)) {
      throw new LocalModeException(
          "no example '"
              + options.example()
              + "' in "
              + options.examplesDir().toAbsolutePath()
              + " (run from the repository root, or pass --examples-dir)");
    }
    out.printf(
        "Tollgate local: example %s, %d sidecar(s), %d requests, %s%n%n",
        options.example(),
        options.sidecars(),
        options.requests(),
        options.realProviders()
            ? "REAL providers (keys from the environment)"
            : "simulated providers");

    Example example = Example.load(exampleDir);
    startApiServer();
    startSimulators(example);
    mounts = new PodMounts(client, workDir);
    mounts.createSecrets(example, options.realProviders());
    startOperator();
    String namespace = apply(example);
    startReportEndpoint(namespace);
    Path configFile = mounts.projectConfigMap(namespace, () -> tables.conditions(namespace));
    startSidecars(configFile, namespace);

    LLMRoute route = example.routes().get(0);
    String primary = route.getSpec().getTiers().get(0).getTargets().get(0).getCredential();
    TrafficDriver.Result result = drive(route.getSpec().getModel(), namespace + "/" + primary);
    tables.awaitSpendWrittenBack(namespace, sidecars);

    tables.printResources(namespace);
    new Summary(client, out, options, sidecars, simulators).print(example, result);
    if (options.keepRunning()) {
      keepRunning(route.getSpec().getModel());
    }
    return 0;
  }

  private void progress(String message) {
    out.printf("[%d/6] %s%n", ++step, message);
  }

  private void startSimulators(Example example) throws InterruptedException {
    toClose.add(simulators);
    if (options.realProviders()) {
      progress("real providers: endpoints as declared by the example");
      return;
    }
    progress("provider simulators: " + String.join(", ", simulators.start(example)));
  }

  private void startApiServer() {
    Map<
            io.fabric8.mockwebserver.ServerRequest,
            java.util.Queue<io.fabric8.mockwebserver.ServerResponse>>
        responses = new HashMap<>();
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(Serialization.jsonMapper()),
            new MockWebServer(),
            responses,
            new KubernetesMixedDispatcher(responses),
            false);
    server.init();
    toClose.add(server::destroy);
    client = server.createClient();
    toClose.add(client);
    tables = new StatusTables(client, out);
    progress(
        "embedded Kubernetes API (fabric8 mock server, CRUD mode) at "
            + client.getConfiguration().getMasterUrl());
  }

  private void startOperator() {
    OperatorConfig config =
        new OperatorConfig(
            Set.of(),
            "tollgate-system",
            false,
            "tollgate-operator",
            Duration.ofSeconds(15),
            "local",
            0,
            SidecarConfigMap.NAME,
            false, // the mock API server does not speak server-side apply
            Duration.ofMinutes(10),
            2,
            OperatorConfig.DEFAULT_SECRET_RECHECK,
            Duration.ZERO); // usage in status at once: the tables show it live
    operator =
        new TollgateOperator(
            config, client, new OperatorMetrics(new PrometheusRegistry()), Clock.systemUTC(), true);
    operator.start();
    toClose.add(operator);
    progress("operator started against it (reconcilers for the three kinds, no leader election)");
  }

  private String apply(Example example) {
    String namespace = example.namespace();
    if (client.namespaces().withName(namespace).get() == null) {
      Namespace ns =
          example.namespaceObject() != null
              ? example.namespaceObject()
              : new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build();
      client.namespaces().resource(ns).create();
    }
    example.credentials().forEach(c -> client.resource(c).create());
    // A run spends cents, and the examples' budgets are thousands of dollars: so that the run shows
    // thresholds, Events and the budget action, local mode lowers each limit to a little less than
    // the run's traffic costs on the simulators. About 0.001 USD a request while Groq serves 90%,
    // 0.003 once Claude takes over during the outage and the primary's circuit cooldown: the limit
    // is crossed near the end of the run, after the outage, so failover and downgrade show apart.
    // Answers a route's response cache replays cost nothing: the driver's FAQs (2 requests in 5,
    // TrafficDriver.FAQ_QUESTIONS questions) reach a provider about once per question and sidecar.
    boolean responseCache =
        example.routes().stream()
            .anyMatch(
                r ->
                    r.getSpec().getCache() != null
                        && r.getSpec().getCache().getResponse() != null
                        && Boolean.TRUE.equals(r.getSpec().getCache().getResponse().getEnabled()));
    long replayed =
        responseCache
            ? Math.max(
                0,
                options.requests() * 2L / 5
                    - (long) TrafficDriver.FAQ_QUESTIONS * options.sidecars())
            : 0;
    BigDecimal localLimit =
        new BigDecimal("0.002")
            .multiply(BigDecimal.valueOf(options.requests() - replayed))
            .setScale(4);
    for (Budget b : example.budgets()) {
      if (!options.realProviders()) {
        out.printf(
            "      local mode lowers Budget %s's limit from %s to %s USD so that this run crosses"
                + " its alert thresholds%n",
            b.getMetadata().getName(), b.getSpec().getLimit(), localLimit.toPlainString());
        b.getSpec().setLimit(localLimit.toPlainString());
      }
      client.resource(b).create();
    }
    example.routes().forEach(r -> client.resource(r).create());
    progress(
        String.format(
            "applied examples/%s to namespace %s: %d ProviderCredential(s), %d LLMRoute(s), %d"
                + " Budget(s)%s",
            options.example(),
            namespace,
            example.credentials().size(),
            example.routes().size(),
            example.budgets().size(),
            example.skipped().isEmpty()
                ? ""
                : "; not applied (the sidecars run in this process): "
                    + String.join(", ", example.skipped())));
    return namespace;
  }

  /**
   * The operator's report endpoint for this run. Local-mode choices, printed: a CA generated for
   * {@code localhost}, and tokens checked by {@link LocalTokenReviewer} because the embedded API
   * server has no TokenReview. Still HTTPS and still a bearer token, as in a cluster.
   */
  private void startReportEndpoint(String namespace) throws IOException {
    reportTls = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
    reportTokens = new LocalTokenReviewer(namespace);
    reports =
        ReportChannel.start(
            new ReportChannel.Settings(
                0,
                Duration.ofMillis(200),
                Duration.ofSeconds(30),
                ConfigMapLedgerStore.DEFAULT_NAME),
            client,
            reportTls.serverContext(),
            reportTokens,
            Clock.systemUTC(),
            operator.renderedConfigs());
    toClose.add(reports);
    out.printf(
        "      report endpoint https://localhost:%d%s (local mode: CA generated for localhost,"
            + " sidecar tokens checked in-process instead of by TokenReview)%n",
        reports.port(), ReportServer.PATH);
  }

  private ReporterSettings reporting(String namespace, int i) throws IOException {
    String pod = "local-sidecar-" + i;
    String uid = java.util.UUID.randomUUID().toString();
    Path token = workDir.resolve("token-" + i);
    Files.writeString(token, reportTokens.token(pod, uid));
    return new ReporterSettings(
        URI.create("https://localhost:" + reports.port() + ReportServer.PATH),
        token,
        reportTls.caPem(),
        namespace,
        pod,
        uid,
        // local mode reports more often than the default 2 s: its runs last seconds
        Duration.ofMillis(500));
  }

  /**
   * The sidecars' traces: exported to {@code --otlp}'s collector, or off; either way the run says
   * where they go.
   */
  private dev.tollgate.sidecar.trace.Tracing tracing(String namespace, int i) {
    if (options.otlp() == null) {
      return dev.tollgate.sidecar.trace.Tracing.off();
    }
    return dev.tollgate.sidecar.trace.Tracing.start(
        dev.tollgate.sidecar.trace.TracingSettings.fromEnv(
            java.util.Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                options.otlp().toString(),
                "OTEL_SERVICE_NAME",
                "tollgate-sidecar",
                "TOLLGATE_POD_NAMESPACE",
                namespace,
                "TOLLGATE_POD_NAME",
                "local-sidecar-" + i)));
  }

  private void startSidecars(Path configFile, String namespace) throws Exception {
    List<String> urls = new ArrayList<>();
    dev.tollgate.sidecar.trace.Tracing first = tracing(namespace, 0);
    out.println(
        options.otlp() == null
            ? "      traces: off; with --otlp http://localhost:4318 each call's OpenTelemetry span"
                + " (gen_ai.* attributes, cost, an attempt span per try when it fails over) goes to that"
                + " collector"
            : "      traces: " + first.describe());
    for (int i = 0; i < options.sidecars(); i++) {
      Integer port = options.keepRunning() && i == 0 ? 4000 : 0;
      Sidecar sidecar;
      try {
        sidecar = startSidecar(configFile, port, namespace, i);
      } catch (RuntimeException e) {
        if (port == 0) {
          throw e;
        }
        out.println("      port 4000 is busy; the first sidecar takes a free port instead");
        sidecar = startSidecar(configFile, 0, namespace, i);
      }
      sidecar.traced(i == 0 ? first : tracing(namespace, i));
      sidecars.add(sidecar);
      toClose.add(sidecar);
      urls.add(sidecar.baseUrl());
    }
    awaitReady(urls);
    // Limited credentials admit nothing until the operator gave each sidecar its share of the
    // account; two report rounds settle the shares of sidecars that started together.
    for (int round = 0; round < 2; round++) {
      for (Sidecar sidecar : sidecars) {
        sidecar.reporter().flush(Duration.ofSeconds(10));
      }
    }
    progress("sidecars ready on the rendered configuration: " + String.join(", ", urls));
  }

  /**
   * One sidecar on the projected configuration (the operator's text, so its integrity hash is the
   * operator's), reading the Secrets from the work directory instead of a pod's mount path.
   */
  private Sidecar startSidecar(Path configFile, int port, String namespace, int i)
      throws Exception {
    return Sidecar.start(
        configFile,
        port,
        1,
        Duration.ofMillis(200),
        reporting(namespace, i),
        null,
        mounts.secretsRoot());
  }

  private void awaitReady(List<String> urls) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    Instant deadline = Instant.now().plusSeconds(20);
    for (String url : urls) {
      while (true) {
        try {
          HttpResponse<Void> r =
              http.send(
                  HttpRequest.newBuilder(URI.create(url + "/readyz")).build(),
                  HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() == 200) {
            break;
          }
        } catch (IOException e) {
          // not listening yet
        }
        if (Instant.now().isAfter(deadline)) {
          throw new LocalModeException("sidecar " + url + " did not become ready within 20s");
        }
        Thread.sleep(100);
      }
    }
  }

  private TrafficDriver.Result drive(String model, String primary) throws InterruptedException {
    ProviderSimulator primarySim = simulators.get(primary);
    int outageStart = options.requests() * 45 / 100;
    int outageEnd = options.requests() * 65 / 100;
    out.printf(
        "[%d/6] traffic: %d requests for model \"%s\"%s%n",
        ++step,
        options.requests(),
        model,
        primarySim == null
            ? ""
            : String.format(
                ", primary %s fails (HTTP 500) from request %d to %d",
                primary, outageStart, outageEnd));
    TrafficDriver driver =
        new TrafficDriver(sidecars.stream().map(Sidecar::baseUrl).toList(), model);
    long start = System.nanoTime();
    TrafficDriver.Result result =
        driver.run(
            options.requests(),
            options.concurrency(),
            done -> {
              if (primarySim != null && done == outageStart) {
                primarySim.behavior(primarySim.behavior().withFault(Fault.SERVER_ERROR, 1.0));
              }
              if (primarySim != null && done == outageEnd) {
                primarySim.behavior(primarySim.behavior().withFault(Fault.NONE, 0));
              }
              progressBar(done);
            });
    out.printf("%n      done in %.1fs%n%n", (System.nanoTime() - start) / 1e9);
    return result;
  }

  /**
   * Redraws one line on a terminal; elsewhere (CI logs, pipes) prints a line at each quarter so the
   * log stays readable.
   */
  private void progressBar(int done) {
    int total = options.requests();
    boolean terminal = System.console() != null;
    int every = terminal ? Math.max(1, total / 60) : Math.max(1, total / 4);
    if (done % every != 0 && done != total) {
      return;
    }
    int width = 30;
    int filled = width * done / total;
    String bar = "#".repeat(filled) + "-".repeat(width - filled);
    synchronized (out) {
      if (terminal) {
        out.printf("\r      [%s] %d/%d%s", bar, done, total, done == total ? "\n" : "");
      } else {
        out.printf("      [%s] %d/%d%n", bar, done, total);
      }
    }
  }

  private void keepRunning(String model) throws InterruptedException {
    out.printf(
        "%nKeeping %d sidecar(s) running. Point an OpenAI SDK at %s/v1 with model \"%s\"; Ctrl-C"
            + " stops.%n",
        sidecars.size(), sidecars.get(0).baseUrl(), model);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
    stop.await();
  }

  @Override
  public void close() {
    if (mounts != null) {
      mounts.close();
    }
    for (int i = toClose.size() - 1; i >= 0; i--) {
      try {
        toClose.get(i).close();
      } catch (Exception e) {
        // Shutting down anyway; nothing else to do with it.
      }
    }
    try (Stream<Path> files = Files.walk(workDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless
    }
  }
}
