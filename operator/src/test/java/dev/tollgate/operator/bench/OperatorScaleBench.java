package dev.tollgate.operator.bench;

import static dev.tollgate.operator.Fixtures.budget;
import static dev.tollgate.operator.Fixtures.credential;
import static dev.tollgate.operator.Fixtures.route;
import static dev.tollgate.operator.Fixtures.secret;
import static dev.tollgate.operator.Fixtures.tier;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scale benchmark (not a test): starts fabric8's mock API server in CRUD mode in this JVM, runs the
 * operator jar as a separate process against it (so its memory is its own), applies N namespaces of
 * M LLMRoutes each, and reports how long until every route is Accepted, the reconcile throughput,
 * ConfigMap writes and the operator's memory. Run it with {@code bench/operator-scale.sh}.
 *
 * <p>Before the operator starts, the namespaces also get unrelated Secrets (Helm release Secrets
 * are like them: tens of KiB each, nothing Tollgate references), so that the operator's start and
 * memory show whether it reads Secrets it does not need.
 *
 * <p>Arguments: operator jar, namespaces, routes per namespace, report file, JVM options of the
 * operator (space-separated), unrelated Secrets (total, default 0), KiB of data per unrelated
 * Secret (default 50).
 */
public final class OperatorScaleBench {
  private static final Pattern SAMPLE =
      Pattern.compile("^(tollgate_operator_[a-z_]+)\\{([^}]*)\\} ([0-9.eE+-]+)$");

  private OperatorScaleBench() {}

  public static void main(String[] args) throws Exception {
    String jar = args[0];
    int namespaces = Integer.parseInt(args[1]);
    int perNamespace = Integer.parseInt(args[2]);
    Path report = Path.of(args[3]);
    List<String> jvmOptions = List.of(args[4].trim().split("\\s+"));
    int unrelatedSecrets = args.length > 5 ? Integer.parseInt(args[5]) : 0;
    int secretKib = args.length > 6 ? Integer.parseInt(args[6]) : 50;
    int total = namespaces * perNamespace;
    // the mock server logs every request through java.util.logging
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver")
        .setLevel(java.util.logging.Level.WARNING);

    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init();
    KubernetesClient client = server.createClient();
    Path kubeconfig = Files.createTempFile("tollgate-bench", ".kubeconfig");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: mock, cluster: {server: "%s"}}]
        users: [{name: bench, user: {token: bench}}]
        contexts: [{name: mock, context: {cluster: mock, user: bench, namespace: default}}]
        current-context: mock
        """
            .formatted(client.getMasterUrl().toString()));

    long secretsStart = System.nanoTime();
    createUnrelatedSecrets(client, namespaces, unrelatedSecrets, secretKib);
    double secretsSeconds = seconds(secretsStart);

    int httpPort = 18080;
    List<String> command = new ArrayList<>();
    command.add("java");
    command.addAll(jvmOptions);
    command.addAll(
        List.of(
            "-jar",
            jar,
            "run",
            "--leader-election=false",
            "--status-ssa=false",
            "--http-port=" + httpPort,
            "--reconcile-threads=4"));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(Path.of("bench/out/operator.log").toFile());
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    pb.environment().put("TOLLGATE_LOG_LEVEL", "WARN");
    Files.createDirectories(Path.of("bench/out"));
    long processStart = System.nanoTime();
    Process operator = pb.start();
    HttpClient http = HttpClient.newHttpClient();
    try {
      long readyAt = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      long peakRssStarting = 0;
      while (!ready(http, httpPort)) {
        if (System.nanoTime() > readyAt || !operator.isAlive()) {
          String failure =
              notReady(
                  operator,
                  seconds(processStart),
                  peakRssStarting,
                  namespaces,
                  unrelatedSecrets,
                  secretKib);
          Files.writeString(report, failure);
          System.out.println(failure);
          return;
        }
        if (operator.isAlive()) {
          peakRssStarting = Math.max(peakRssStarting, rssKb(operator.pid(), "VmHWM"));
        }
        Thread.sleep(200);
      }
      double timeToReady = seconds(processStart);
      long idleRss = rssKb(operator.pid(), "VmRSS");

      long start = System.nanoTime();
      for (int n = 0; n < namespaces; n++) {
        String ns = "bench-" + n;
        MockApi.apply(client, secret(ns, "openai-key", "api-key"));
        MockApi.apply(client, credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
        MockApi.apply(client, budget(ns, "monthly", "1000.00"));
      }
      for (int r = 0; r < perNamespace; r++) {
        for (int n = 0; n < namespaces; n++) {
          String ns = "bench-" + n;
          MockApi.apply(
              client,
              Fixtures.withBudget(
                  route(
                      ns,
                      "route-" + r,
                      "model-" + r,
                      tier("simple", "openai", "gpt-4o-mini"),
                      tier("complex", "openai", "gpt-4o")),
                  "monthly"));
        }
      }
      double applied = seconds(start);
      long peakRssDuring = 0;
      int accepted = 0;
      while (accepted < total) {
        Thread.sleep(500);
        accepted = accepted(client);
        peakRssDuring = Math.max(peakRssDuring, rssKb(operator.pid(), "VmRSS"));
        if (seconds(start) > 900) {
          throw new IllegalStateException("only " + accepted + " of " + total + " accepted");
        }
      }
      double allAccepted = seconds(start);
      Map<String, Double> afterCreate = quiet(http, httpPort);
      double settled = seconds(start);
      int renderedRoutes = renderedRoutes(client, namespaces);

      // Re-render everything without changing anything: a credential spec change the sidecars do
      // not see (allowedNamespaces) reconciles every route; nothing may be written.
      long touchStart = System.nanoTime();
      for (int n = 0; n < namespaces; n++) {
        client
            .resources(ProviderCredential.class)
            .inNamespace("bench-" + n)
            .withName("openai")
            .edit(
                c -> {
                  c.getSpec().setAllowedNamespaces(List.of("bench-touch"));
                  return c;
                });
      }
      double before = afterCreate.getOrDefault("reconciles_llmroute", 0.0);
      Map<String, Double> afterTouch;
      do {
        Thread.sleep(200);
        afterTouch = scrape(http, httpPort);
      } while (afterTouch.getOrDefault("reconciles_llmroute", 0.0) < before + total);
      double touchSeconds = seconds(touchStart);
      afterTouch = quiet(http, httpPort);

      // a full GC first, so that "used" is the live data of 1,000 routes' worth of caches
      jcmd(operator.pid(), "GC.run");
      String heap = jcmd(operator.pid(), "GC.heap_info");
      long rss = rssKb(operator.pid(), "VmRSS");
      long hwm = rssKb(operator.pid(), "VmHWM");

      double reconciles = afterCreate.getOrDefault("reconciles_all", 0.0);
      double routeReconciles = afterCreate.getOrDefault("reconciles_llmroute", 0.0);
      String result =
          """
          | measure | value |
          |---|---|
          | unrelated Secrets present before the operator starts | %d × %d KiB (created in %.1f s) |
          | operator start until ready (every informer synced) | %.1f s |
          | namespaces × routes per namespace | %d × %d = %d LLMRoutes (+ %d Secrets, ProviderCredentials, Budgets) |
          | time to apply all objects (client side, sequential) | %.1f s |
          | time from first apply until every LLMRoute is Accepted | %.1f s |
          | time until the operator is idle (no reconcile for 2 s) | %.1f s |
          | reconciles until idle, all kinds / LLMRoute | %.0f / %.0f |
          | reconcile throughput until idle, all kinds | %.0f reconciles/s |
          | mean LLMRoute reconcile duration (incl. namespace render and ConfigMap read) | %.1f ms |
          | ConfigMap writes until idle (create + update) | %.0f |
          | routes in the %d rendered ConfigMaps | %d |
          | no-op re-render: %d LLMRoute reconciles after touching every credential | %.1f s, %.0f reconciles/s |
          | ConfigMap writes caused by the no-op re-render | %.0f |
          | operator RSS idle before load / peak during load / after | %d MiB / %d MiB / %d MiB (VmHWM %d MiB) |

          Operator heap after the run and a full GC (`jcmd GC.run`, `jcmd GC.heap_info`):

          ```
          %s
          ```
          """
              .formatted(
                  unrelatedSecrets,
                  secretKib,
                  secretsSeconds,
                  timeToReady,
                  namespaces,
                  perNamespace,
                  total,
                  namespaces,
                  applied,
                  allAccepted,
                  settled,
                  reconciles,
                  routeReconciles,
                  reconciles / settled,
                  afterCreate.getOrDefault("duration_llmroute_sum", 0.0)
                      / Math.max(1, afterCreate.getOrDefault("duration_llmroute_count", 1.0))
                      * 1000,
                  afterCreate.getOrDefault("writes", 0.0),
                  namespaces,
                  renderedRoutes,
                  total,
                  touchSeconds,
                  total / touchSeconds,
                  afterTouch.getOrDefault("writes", 0.0) - afterCreate.getOrDefault("writes", 0.0),
                  idleRss / 1024,
                  peakRssDuring / 1024,
                  rss / 1024,
                  hwm / 1024,
                  heap.strip());
      Files.writeString(report, result);
      System.out.println(result);
      System.out.println("operator command: " + String.join(" ", command));
    } finally {
      operator.destroy();
      operator.waitFor();
      client.close();
      server.destroy();
    }
  }

  /**
   * Secrets no ProviderCredential references, spread over the namespaces, shaped like Helm release
   * Secrets (one large base64 value).
   */
  private static void createUnrelatedSecrets(
      KubernetesClient client, int namespaces, int count, int kib) {
    java.util.Random random = new java.util.Random(42);
    byte[] payload = new byte[kib * 1024 * 3 / 4];
    for (int i = 0; i < count; i++) {
      random.nextBytes(payload);
      String ns = "bench-" + (i % namespaces);
      client
          .secrets()
          .inNamespace(ns)
          .resource(
              new io.fabric8.kubernetes.api.model.SecretBuilder()
                  .withNewMetadata()
                  .withName("sh.helm.release.v1.app-" + i + ".v1")
                  .withNamespace(ns)
                  .addToLabels("owner", "helm")
                  .endMetadata()
                  .withType("helm.sh/release.v1")
                  .addToData("release", java.util.Base64.getEncoder().encodeToString(payload))
                  .build())
          .create();
    }
  }

  /** The report of a run where the operator died or never got ready (e.g. out of heap). */
  private static String notReady(
      Process operator,
      double afterSeconds,
      long peakRssKb,
      int namespaces,
      int unrelatedSecrets,
      int secretKib)
      throws IOException {
    List<String> log = Files.readAllLines(Path.of("bench/out/operator.log"));
    List<String> causes =
        log.stream()
            .filter(
                l ->
                    l.contains("OutOfMemoryError")
                        || l.contains("timed out")
                        || l.contains("Exception")
                        || l.contains("ERROR"))
            .limit(8)
            .map(l -> l.length() > 240 ? l.substring(0, 240) + "…" : l)
            .toList();
    return """
        | measure | value |
        |---|---|
        | unrelated Secrets present before the operator starts | %d × %d KiB in %d namespaces |
        | operator start until ready | **never**: %s after %.1f s |
        | operator RSS, peak while starting (VmHWM) | %d MiB |

        First problems in the operator's log:

        ```
        %s
        ```
        """
        .formatted(
            unrelatedSecrets,
            secretKib,
            namespaces,
            operator.isAlive() ? "still not ready" : "exited with " + operator.exitValue(),
            afterSeconds,
            peakRssKb / 1024,
            String.join("\n", causes));
  }

  private static int accepted(KubernetesClient client) {
    return (int)
        client.resources(LLMRoute.class).inAnyNamespace().list().getItems().stream()
            .filter(
                r ->
                    r.getStatus() != null
                        && Conditions.isTrue(r.getStatus().getConditions(), Conditions.ACCEPTED))
            .count();
  }

  private static int renderedRoutes(KubernetesClient client, int namespaces) throws Exception {
    int routes = 0;
    for (int n = 0; n < namespaces; n++) {
      ConfigMap cm =
          client.configMaps().inNamespace("bench-" + n).withName(SidecarConfigMap.NAME).get();
      routes += SidecarConfigCodec.read(cm.getData().get(SidecarConfigMap.KEY)).routes().size();
    }
    return routes;
  }

  /** Scrapes until the reconcile count stops moving for 2 s. */
  private static Map<String, Double> quiet(HttpClient http, int port) throws Exception {
    Map<String, Double> last = scrape(http, port);
    long stableSince = System.nanoTime();
    while (seconds(stableSince) < 2) {
      Thread.sleep(250);
      Map<String, Double> now = scrape(http, port);
      if (!now.get("reconciles_all").equals(last.get("reconciles_all"))) {
        stableSince = System.nanoTime();
      }
      last = now;
    }
    return last;
  }

  private static Map<String, Double> scrape(HttpClient http, int port) throws Exception {
    String body =
        http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Map<String, Double> values = new HashMap<>();
    values.put("reconciles_all", 0.0);
    for (String line : body.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches()) {
        continue;
      }
      String name = m.group(1);
      String labels = m.group(2);
      double v = Double.parseDouble(m.group(3));
      if (name.equals("tollgate_operator_reconciles_total")) {
        values.merge("reconciles_all", v, Double::sum);
        if (labels.contains("controller=\"llmroute\"")) {
          values.merge("reconciles_llmroute", v, Double::sum);
        }
      } else if (name.equals("tollgate_operator_configmap_writes_total")
          && !labels.contains("deleted")) {
        values.merge("writes", v, Double::sum);
      } else if (name.startsWith("tollgate_operator_reconcile_duration_seconds_")
          && labels.contains("controller=\"llmroute\"")
          && labels.contains("operation=\"reconcile\"")) {
        if (name.endsWith("_sum")) {
          values.put("duration_llmroute_sum", v);
        } else if (name.endsWith("_count")) {
          values.put("duration_llmroute_count", v);
        }
      }
    }
    return values;
  }

  private static boolean ready(HttpClient http, int port) {
    try {
      return http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static long rssKb(long pid, String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  private static String jcmd(long pid, String what) throws Exception {
    Process p =
        new ProcessBuilder("jcmd", String.valueOf(pid), what).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    List<String> lines = new ArrayList<>(List.of(out.split("\n")));
    if (!lines.isEmpty() && lines.get(0).startsWith(String.valueOf(pid))) {
      lines.remove(0);
    }
    return String.join("\n", lines);
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
