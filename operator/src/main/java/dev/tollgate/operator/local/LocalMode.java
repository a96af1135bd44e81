package dev.tollgate.operator.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.SecretKeyRef;
import dev.tollgate.operator.OperatorConfig;
import dev.tollgate.operator.TollgateOperator;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.operator.report.ReportChannel;
import dev.tollgate.operator.report.ReportServer;
import dev.tollgate.operator.status.BudgetSpendStatus;
import dev.tollgate.operator.webhook.WebhookTls;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.SecretMounts;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.report.ReporterSettings;
import dev.tollgate.sidecar.sim.Fault;
import dev.tollgate.sidecar.sim.ProviderSimulator;
import dev.tollgate.sidecar.sim.SimulatorBehavior;
import dev.tollgate.sidecar.sim.SimulatorStats;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
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
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code tollgate-operator local}: the whole system in one process without a cluster. An embedded
 * Kubernetes API (fabric8's mock server in CRUD mode), the operator, provider simulators (one per
 * ProviderCredential, so one provider can fail alone) and sidecars reading the ConfigMap the
 * operator renders, as the kubelet would project it. It applies an example, drives traffic through
 * the sidecars with an outage of the primary provider part of the way, and prints what a platform
 * engineer would look at.
 */
public final class LocalMode implements AutoCloseable {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Map<String, String> SEED_TARGETS =
      Map.of(
          "customer-support",
          "$0.0017 per conversation (seed: 90% Groq Llama 3.1 70B at $0.00138, 10% Claude 3.5"
              + " Sonnet at $0.00399)");
  private static final Map<String, String> KEY_VARIABLES =
      Map.of(
          "openai", "OPENAI_API_KEY",
          "anthropic", "ANTHROPIC_API_KEY",
          "groq", "GROQ_API_KEY",
          "gemini", "GEMINI_API_KEY",
          "mistral", "MISTRAL_API_KEY",
          "cohere", "COHERE_API_KEY",
          "azure-openai", "AZURE_OPENAI_API_KEY",
          "bedrock", "AWS_BEARER_TOKEN_BEDROCK",
          "openai-compatible", "OPENAI_COMPATIBLE_API_KEY");

  private final LocalOptions options;
  private final PrintStream out;
  private final Path workDir;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  /**
   * One per ProviderCredential, by {@code namespace/name}: an example may declare a credential of
   * the same name in several namespaces (namespace-budgets does).
   */
  private final Map<String, ProviderSimulator> simulators = new LinkedHashMap<>();

  private final List<Sidecar> sidecars = new ArrayList<>();
  private final ScheduledExecutorService projector =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "tollgate-local-projector");
            t.setDaemon(true);
            return t;
          });
  private NamespacedKubernetesClient client;
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
    if (!options.verbose()) {
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
    createSecrets(example);
    startOperator();
    String namespace = apply(example);
    startReportEndpoint(namespace);
    Path configFile = projectConfigMap(namespace);
    startSidecars(configFile, namespace);

    LLMRoute route = example.routes().get(0);
    String primary = route.getSpec().getTiers().get(0).getTargets().get(0).getCredential();
    TrafficDriver.Result result = drive(route.getSpec().getModel(), namespace + "/" + primary);
    awaitSpendWrittenBack(namespace);

    printResources(namespace);
    printSummary(example, result);
    if (options.keepRunning()) {
      keepRunning(route.getSpec().getModel());
    }
    return 0;
  }

  private void progress(String message) {
    out.printf("[%d/6] %s%n", ++step, message);
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
    progress(
        "embedded Kubernetes API (fabric8 mock server, CRUD mode) at "
            + client.getConfiguration().getMasterUrl());
  }

  private void startSimulators(Example example) throws InterruptedException {
    if (options.realProviders()) {
      progress("real providers: endpoints as declared by the example");
      return;
    }
    List<String> lines = new ArrayList<>();
    for (ProviderCredential credential : example.credentials()) {
      String provider = credential.getSpec().getProvider().wireName();
      if (provider.equals("vertex-ai")) {
        lines.add(credential.getMetadata().getName() + " (vertex-ai: not simulated, calls fail)");
        continue;
      }
      ProviderSimulator sim = ProviderSimulator.start();
      toClose.add(sim);
      // Seed numbers (customer-support): ~1,200 input and ~150 output tokens a conversation,
      // Groq answering in ~150 ms; Claude caches the marked system prompt as Anthropic does
      // (written on the first call, read afterwards) and bills ~200 new input tokens.
      boolean claude = provider.equals("anthropic");
      Duration ttft = provider.equals("groq") ? Duration.ofMillis(150) : Duration.ofMillis(400);
      sim.behavior(
          SimulatorBehavior.defaults()
              .withTiming(ttft, 2000)
              .withUsage(claude ? 200 : 1200, 150, 0, 0));
      sim.simulatePromptCaching(claude);
      String ns = credential.getMetadata().getNamespace();
      simulators.put(simulatorKey(ns == null ? example.namespace() : ns, credential), sim);
      boolean openAiFamily = !Set.of("anthropic", "gemini", "bedrock").contains(provider);
      credential.getSpec().setEndpoint(sim.baseUrl() + (openAiFamily ? "/v1" : ""));
      lines.add(
          (ns == null ? example.namespace() : ns)
              + "/"
              + credential.getMetadata().getName()
              + " ("
              + provider
              + ") -> "
              + sim.baseUrl());
    }
    progress("provider simulators: " + String.join(", ", lines));
  }

  private static String simulatorKey(String namespace, ProviderCredential credential) {
    return namespace + "/" + credential.getMetadata().getName();
  }

  /** The simulators of {@code namespace}'s credentials (the ones its sidecars call). */
  private List<ProviderSimulator> simulatorsOf(String namespace) {
    return simulators.entrySet().stream()
        .filter(e -> e.getKey().startsWith(namespace + "/"))
        .map(Map.Entry::getValue)
        .toList();
  }

  private void createSecrets(Example example) throws IOException {
    Path root = workDir.resolve("secrets");
    for (ProviderCredential credential : example.credentials()) {
      SecretKeyRef ref = credential.getSpec().getSecretRef();
      if (ref == null) {
        continue;
      }
      String value = "sk-tollgate-local-simulated";
      if (options.realProviders()) {
        String variable = KEY_VARIABLES.get(credential.getSpec().getProvider().wireName());
        value = variable == null ? null : System.getenv(variable);
        if (value == null || value.isBlank()) {
          throw new LocalModeException(
              "--real-providers: set "
                  + (variable == null ? "a key" : variable)
                  + " for ProviderCredential "
                  + credential.getMetadata().getName());
        }
      }
      String namespace = credential.getMetadata().getNamespace();
      client
          .secrets()
          .inNamespace(namespace)
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withName(ref.getName())
                  .withNamespace(namespace)
                  .endMetadata()
                  .addToData(
                      ref.getKey(),
                      Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)))
                  .build())
          .createOr(r -> r.update());
      // What the kubelet does with a mounted Secret: one file per key.
      Path file = Path.of(SecretMounts.keyFile(root.toString(), ref.getName(), ref.getKey()));
      Files.createDirectories(file.getParent());
      Files.writeString(file, value);
    }
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
            2);
    TollgateOperator operator =
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

  /** Waits for the rendered ConfigMap and keeps a file in step with it, as the kubelet does. */
  private Path projectConfigMap(String namespace) throws Exception {
    Path file = workDir.resolve("config").resolve(SidecarConfigMap.KEY);
    Files.createDirectories(file.getParent());
    Instant deadline = Instant.now().plusSeconds(30);
    ConfigMap configMap;
    while ((configMap = configMap(namespace)) == null) {
      if (Instant.now().isAfter(deadline)) {
        throw new LocalModeException(
            "the operator rendered no configuration for namespace "
                + namespace
                + " within 30s; the resources' conditions say why:\n"
                + conditions(namespace));
      }
      Thread.sleep(100);
    }
    Files.writeString(file, projected(configMap));
    projector.scheduleWithFixedDelay(
        () -> {
          ConfigMap current = configMap(namespace);
          if (current != null) {
            try {
              String yaml = projected(current);
              if (!yaml.equals(Files.readString(file))) {
                Path tmp = file.resolveSibling(SidecarConfigMap.KEY + ".tmp");
                Files.writeString(tmp, yaml);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
              }
            } catch (IOException e) {
              // Next round tries again; the sidecars keep their last good configuration.
            }
          }
        },
        500,
        500,
        TimeUnit.MILLISECONDS);
    return file;
  }

  /**
   * The configuration as this process's stand-in for the kubelet mounts it: Secrets are not under
   * {@link SecretMounts#ROOT} here but in the work directory, so key-file paths are moved there.
   * Every other value is left as the operator rendered it.
   */
  private String projected(ConfigMap configMap) throws IOException {
    return projected(configMap.getData().get(SidecarConfigMap.KEY));
  }

  /** As {@link #projected(ConfigMap)}, for a configuration's text (one fetched by a sidecar). */
  private String projected(String text) throws IOException {
    JsonNode tree = YAML.readTree(text);
    String localRoot = workDir.resolve("secrets").toString();
    moveSecretPaths(tree, SecretMounts.ROOT + "/", localRoot + "/");
    return YAML.writeValueAsString(tree);
  }

  private static void moveSecretPaths(JsonNode node, String from, String to) {
    if (node instanceof com.fasterxml.jackson.databind.node.ObjectNode object) {
      List<String> names = new ArrayList<>();
      object.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        JsonNode child = object.get(name);
        if (child.isTextual() && child.asText().startsWith(from)) {
          object.put(name, to + child.asText().substring(from.length()));
        } else {
          moveSecretPaths(child, from, to);
        }
      }
    } else if (node.isArray()) {
      node.forEach(child -> moveSecretPaths(child, from, to));
    }
  }

  private ConfigMap configMap(String namespace) {
    ConfigMap cm = client.configMaps().inNamespace(namespace).withName(SidecarConfigMap.NAME).get();
    return cm == null || cm.getData() == null || !cm.getData().containsKey(SidecarConfigMap.KEY)
        ? null
        : cm;
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
            Clock.systemUTC());
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

  private void startSidecars(Path configFile, String namespace) throws Exception {
    List<String> urls = new ArrayList<>();
    for (int i = 0; i < options.sidecars(); i++) {
      Integer port = options.keepRunning() && i == 0 ? 4000 : 0;
      Sidecar sidecar;
      try {
        sidecar =
            Sidecar.start(configFile, port, 1, Duration.ofMillis(200), reporting(namespace, i));
      } catch (RuntimeException e) {
        if (port == 0) {
          throw e;
        }
        out.println("      port 4000 is busy; the first sidecar takes a free port instead");
        sidecar = Sidecar.start(configFile, 0, 1, Duration.ofMillis(200), reporting(namespace, i));
      }
      // a sidecar that fetches the configuration from the operator finds the keys where the file
      // it mounts has them
      sidecar
          .config()
          .rewriteFetched(
              text -> {
                try {
                  return projected(text);
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
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
   * Delivers the sidecars' last usage and waits until the Budgets', LLMRoutes' and
   * ProviderCredentials' status shows what the ledger holds, so that the tables below are final.
   */
  private void awaitSpendWrittenBack(String namespace) throws InterruptedException {
    for (Sidecar sidecar : sidecars) {
      if (!sidecar.reporter().flush(Duration.ofSeconds(10))) {
        out.println("      a sidecar could not deliver its last report; the tables may lag");
      }
    }
    Instant deadline = Instant.now().plusSeconds(15);
    while (Instant.now().isBefore(deadline)) {
      ConfigMap cm =
          client
              .configMaps()
              .inNamespace(namespace)
              .withName(ConfigMapLedgerStore.DEFAULT_NAME)
              .get();
      SpendLedger ledger = cm == null ? new SpendLedger() : ConfigMapLedgerStore.parse(cm);
      boolean current =
          client.resources(Budget.class).inNamespace(namespace).list().getItems().stream()
              .allMatch(
                  b -> {
                    SpendLedger.BudgetSpend spend = ledger.budgets.get(b.getMetadata().getName());
                    String expected =
                        BudgetSpendStatus.money(spend == null ? BigDecimal.ZERO : spend.spentUsd());
                    return b.getStatus() != null && expected.equals(b.getStatus().getSpent());
                  });
      current =
          current
              && client.resources(LLMRoute.class).inNamespace(namespace).list().getItems().stream()
                  .allMatch(
                      r -> {
                        SpendLedger.RouteUsage u = ledger.routes.get(r.getSpec().getModel());
                        return u == null
                            || (r.getStatus() != null
                                && r.getStatus().getUsage() != null
                                && BudgetSpendStatus.money(new BigDecimal(u.spent))
                                    .equals(r.getStatus().getUsage().getSpend()));
                      });
      current =
          current
              && client
                  .resources(ProviderCredential.class)
                  .inNamespace(namespace)
                  .list()
                  .getItems()
                  .stream()
                  .allMatch(
                      c ->
                          ledger.health.keySet().stream()
                                  .noneMatch(k -> k.startsWith(c.getMetadata().getName() + "/"))
                              || (c.getStatus() != null
                                  && c.getStatus().getOverallHealth() != null));
      if (current) {
        return;
      }
      Thread.sleep(100);
    }
    out.println("      the status did not catch up with the reports within 15 s");
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

  private void printResources(String namespace) {
    Instant now = Instant.now();
    out.printf("$ kubectl -n %s get providercredentials,llmroutes,budgets%n", namespace);
    out.println(
        KubectlTable.render(
            "providercredentials",
            client.resources(ProviderCredential.class).inNamespace(namespace).list().getItems(),
            now));
    out.println(
        KubectlTable.render(
            "llmroutes",
            client.resources(LLMRoute.class).inNamespace(namespace).list().getItems(),
            now));
    out.println(
        KubectlTable.render(
            "budgets",
            client.resources(Budget.class).inNamespace(namespace).list().getItems(),
            now));
    out.println("Conditions:");
    out.print(conditions(namespace));
    out.printf("%n$ kubectl -n %s get events%n", namespace);
    List<Event> events = client.v1().events().inNamespace(namespace).list().getItems();
    if (events.isEmpty()) {
      out.println("No events.");
    } else {
      List<List<String>> rows = new ArrayList<>();
      rows.add(List.of("TYPE", "REASON", "OBJECT", "MESSAGE"));
      for (Event e : events) {
        rows.add(
            List.of(
                String.valueOf(e.getType()),
                String.valueOf(e.getReason()),
                e.getInvolvedObject().getKind().toLowerCase()
                    + "/"
                    + e.getInvolvedObject().getName(),
                String.valueOf(e.getMessage())));
      }
      out.print(KubectlTable.format(rows));
    }
    out.println();
  }

  private String conditions(String namespace) {
    StringBuilder sb = new StringBuilder();
    Stream.of(
            client.resources(ProviderCredential.class).inNamespace(namespace).list().getItems(),
            client.resources(LLMRoute.class).inNamespace(namespace).list().getItems(),
            client.resources(Budget.class).inNamespace(namespace).list().getItems())
        .flatMap(List::stream)
        .forEach(
            r -> {
              JsonNode status = Serialization.jsonMapper().valueToTree(r).path("status");
              for (JsonNode c : status.path("conditions")) {
                sb.append(
                    String.format(
                        "  %s/%s  %s=%s  %s: %s%n",
                        r.getKind().toLowerCase(),
                        r.getMetadata().getName(),
                        c.path("type").asText(),
                        c.path("status").asText(),
                        c.path("reason").asText(),
                        c.path("message").asText()));
              }
            });
    return sb.toString();
  }

  private void printSummary(Example example, TrafficDriver.Result result) {
    Map<UsageLedger.Key, long[]> byTarget = new LinkedHashMap<>();
    BigDecimal cost = BigDecimal.ZERO;
    long input = 0;
    long output = 0;
    long failovers = 0;
    long cacheRead = 0;
    long cacheWrite = 0;
    long cacheHits = 0;
    BigDecimal saved = BigDecimal.ZERO;
    for (Sidecar sidecar : sidecars) {
      UsageLedger.Totals total = sidecar.ledger().total();
      cacheHits += total.cacheHits();
      saved = saved.add(total.savedCostUsd());
      cost = cost.add(total.costUsd());
      cacheRead += total.cacheReadTokens();
      cacheWrite += total.cacheWriteTokens();
      input += total.inputTokens();
      output += total.outputTokens();
      failovers += total.failovers();
      sidecar
          .ledger()
          .snapshot()
          .forEach(
              (k, v) -> {
                long[] sums = byTarget.computeIfAbsent(k, x -> new long[2]);
                sums[0] += v.requests();
                sums[1] += v.errors().values().stream().mapToLong(Long::longValue).sum();
              });
    }
    out.println("Summary (from the sidecars' own ledgers)");
    out.printf(
        "  requests %d, succeeded %d (%.1f%%), streamed %d, failed %s%n",
        result.requests(),
        result.succeeded(),
        100.0 * result.succeeded() / result.requests(),
        result.streamed(),
        result.failuresByStatus().isEmpty()
            ? "none"
            : "by HTTP status " + result.failuresByStatus());
    out.printf(
        "  failovers %d, mean latency %d ms%n",
        failovers, result.totalLatencyMillis() / result.requests());
    out.printf(
        "  response cache: %d answers replayed (callers saw %d with x-tollgate-cache: hit), $%s"
            + " not spent%n",
        cacheHits, result.cacheHits(), saved.setScale(6, RoundingMode.HALF_UP).toPlainString());
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("  ROUTE", "TIER", "CREDENTIAL", "MODEL", "REQUESTS", "ERRORS"));
    byTarget.forEach(
        (k, v) ->
            rows.add(
                List.of(
                    "  " + k.route(),
                    String.valueOf(k.tier()),
                    String.valueOf(k.credential()),
                    String.valueOf(k.model()),
                    Long.toString(v[0]),
                    Long.toString(v[1]))));
    out.print(KubectlTable.format(rows));
    BigDecimal perRequest =
        result.succeeded() == 0
            ? BigDecimal.ZERO
            : cost.divide(BigDecimal.valueOf(result.succeeded()), 8, RoundingMode.HALF_UP);
    out.printf(
        "  cost $%s in total, $%s per answered request%n",
        cost.setScale(6, RoundingMode.HALF_UP).toPlainString(),
        perRequest.stripTrailingZeros().toPlainString());
    if (cacheRead + cacheWrite > 0) {
      out.printf(
          "  prompt cache: %d tokens read at the cache-read price, %d written (hit rate %.1f%%)%n",
          cacheRead, cacheWrite, 100.0 * cacheRead / (cacheRead + cacheWrite));
    }
    String target = SEED_TARGETS.get(options.example());
    if (target != null) {
      out.printf("  seed target: %s%n", target);
    }
    if (!options.realProviders()) {
      long servedIn = 0;
      long servedOut = 0;
      for (ProviderSimulator sim : simulatorsOf(example.namespace())) {
        SimulatorStats s = sim.stats();
        servedIn += s.inputTokens();
        servedOut += s.outputTokens();
      }
      out.printf(
          "  metering check: sidecars counted %d input / %d output tokens; simulators served %d /"
              + " %d: %s%n",
          input,
          output,
          servedIn,
          servedOut,
          input == servedIn && output == servedOut ? "match" : "MISMATCH");
    }
    String namespace = example.namespace();
    for (Budget b : client.resources(Budget.class).inNamespace(namespace).list().getItems()) {
      BudgetStatus st = b.getStatus();
      if (st == null || st.getSpent() == null) {
        continue;
      }
      out.printf(
          "  budget %s (status, from the sidecars' reports): spent $%s of $%s (%s%%), phase %s,"
              + " alerts fired %s, onExceeded %s%n",
          b.getMetadata().getName(),
          st.getSpent(),
          b.getSpec().getLimit(),
          st.getPercentUsed(),
          st.getPhase() == null ? "-" : st.getPhase().name(),
          st.getAlertsFired(),
          b.getSpec().getOnExceeded() == null ? "Block" : b.getSpec().getOnExceeded());
    }
    ConfigMap ledgerMap =
        client
            .configMaps()
            .inNamespace(namespace)
            .withName(ConfigMapLedgerStore.DEFAULT_NAME)
            .get();
    if (ledgerMap != null) {
      SpendLedger operatorLedger = ConfigMapLedgerStore.parse(ledgerMap);
      BigDecimal reported =
          operatorLedger.routes.values().stream()
              .map(r -> new BigDecimal(r.spent))
              .reduce(BigDecimal.ZERO, BigDecimal::add);
      out.printf(
          "  write-back check: operator's ledger $%s, sidecars' ledgers $%s: %s%n",
          reported.setScale(6, RoundingMode.HALF_UP).toPlainString(),
          cost.setScale(6, RoundingMode.HALF_UP).toPlainString(),
          reported.compareTo(cost) == 0 ? "match" : "MISMATCH");
      long reportedHits = operatorLedger.routes.values().stream().mapToLong(r -> r.cacheHits).sum();
      BigDecimal reportedSaved =
          operatorLedger.routes.values().stream()
              .map(r -> new BigDecimal(r.saved == null ? "0" : r.saved))
              .reduce(BigDecimal.ZERO, BigDecimal::add);
      out.printf(
          "  response cache check: operator's ledger %d hits saving $%s, sidecars' ledgers %d"
              + " hits saving $%s: %s%n",
          reportedHits,
          reportedSaved.setScale(6, RoundingMode.HALF_UP).toPlainString(),
          cacheHits,
          saved.setScale(6, RoundingMode.HALF_UP).toPlainString(),
          reportedHits == cacheHits && reportedSaved.compareTo(saved) == 0 ? "match" : "MISMATCH");
    }
    printCaching(namespace);
  }

  /** What caching did, as each route's status reports it (kubectl get llmroute -o yaml). */
  private void printCaching(String namespace) {
    for (LLMRoute r : client.resources(LLMRoute.class).inNamespace(namespace).list().getItems()) {
      LLMRouteStatus.RouteUsage u = r.getStatus() == null ? null : r.getStatus().getUsage();
      if (u == null) {
        continue;
      }
      out.printf(
          "  route %s (status): response cache hits %s (%s%% of requests), saved $%s; prompt"
              + " cache hit rate %s%%%n",
          r.getMetadata().getName(),
          u.getCacheHits() == null ? 0 : u.getCacheHits(),
          u.getCacheHitRatePercent() == null ? "0" : u.getCacheHitRatePercent(),
          u.getCacheSavings() == null ? "0" : u.getCacheSavings(),
          u.getPromptCacheHitRatePercent() == null ? "-" : u.getPromptCacheHitRatePercent());
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
    projector.shutdownNow();
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

  /** A failure with a message meant for the user, printed without a stack trace. */
  static final class LocalModeException extends RuntimeException {
    LocalModeException(String message) {
      super(message);
    }
  }

  /** The objects of one example folder, by kind. */
  record Example(
      List<ProviderCredential> credentials,
      List<LLMRoute> routes,
      List<Budget> budgets,
      Namespace namespaceObject,
      List<String> skipped) {

    String namespace() {
      if (routes.isEmpty()) {
        throw new LocalModeException("the example declares no LLMRoute");
      }
      return routes.get(0).getMetadata().getNamespace();
    }

    static Example load(Path dir) throws IOException {
      List<ProviderCredential> credentials = new ArrayList<>();
      List<LLMRoute> routes = new ArrayList<>();
      List<Budget> budgets = new ArrayList<>();
      List<String> skipped = new ArrayList<>();
      Namespace namespace = null;
      List<Path> files;
      try (Stream<Path> list = Files.list(dir)) {
        files =
            list.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                .sorted()
                .toList();
      }
      for (Path file : files) {
        try (MappingIterator<JsonNode> docs =
            YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
          while (docs.hasNext()) {
            JsonNode doc = docs.next();
            if (doc == null || !doc.has("kind")) {
              continue;
            }
            String json = doc.toString();
            switch (doc.get("kind").asText()) {
              case "ProviderCredential" ->
                  credentials.add(Serialization.unmarshal(json, ProviderCredential.class));
              case "LLMRoute" -> routes.add(Serialization.unmarshal(json, LLMRoute.class));
              case "Budget" -> budgets.add(Serialization.unmarshal(json, Budget.class));
              case "Namespace" -> namespace = Serialization.unmarshal(json, Namespace.class);
              default ->
                  skipped.add(doc.get("kind").asText() + " " + doc.at("/metadata/name").asText());
            }
          }
        }
      }
      return new Example(credentials, routes, budgets, namespace, skipped);
    }
  }
}
