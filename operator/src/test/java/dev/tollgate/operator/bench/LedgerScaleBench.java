package dev.tollgate.operator.bench;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.TollgateOperator;
import dev.tollgate.operator.ledger.Accounting;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.operator.report.ReportChannel;
import dev.tollgate.operator.report.TokenReviewer;
import dev.tollgate.operator.webhook.WebhookTls;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Ledger scale benchmark: simulated sidecars (in-process report clients that hand reports straight
 * to the report channel's {@link Accounting}, no proxies, no HTTPS) in many namespaces, against the
 * fabric8 mock API server with the operator running. Measures what the issue #17 targets name:
 * ledger bytes per object, bytes written to the API server (the sum of the sizes of the objects
 * created, updated or patched: what etcd would store), accounting CPU, TokenReviews, report latency
 * and budget overshoot. Run by {@code bench/ledger-scale.sh}; nothing is asserted.
 *
 * <p>Each simulated pod spends {@code RATE} calls a second at {@link #PER_CALL} USD within the
 * allowance of its last reply (one call more when the allowance runs out mid-call: a call in
 * flight) and reports every interval, or the interval the operator's reply asks for; it does not
 * start a new report while one is unanswered, and resends an unanswered one unchanged.
 */
public final class LedgerScaleBench {
  private static final BigDecimal PER_CALL = new BigDecimal("0.01");
  private static final double RATE = 1.0; // calls a second per pod
  private static final int LATENCY_BUCKETS = 60_000; // 1 ms each

  private LedgerScaleBench() {}

  /** How a simulated sidecar's report reaches the accounting. */
  interface Sender {
    java.util.concurrent.CompletableFuture<ReportReply> send(Pod p, UsageReport report);
  }

  private static volatile Sender SENDER;

  /**
   * Posts reports as a sidecar does: {@code POST /v1/reports} over HTTPS (HTTP/1.1, connections
   * kept alive and shared by the simulated pods: far fewer than one per pod) with the pod's bearer
   * token; a reply other than 200 fails the report (the pod resends it at its next tick).
   */
  static final class HttpsSender implements Sender {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .configure(
                com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES,
                false);
    private final java.net.http.HttpClient http;
    private final java.net.URI uri;
    // Requests in flight at most, so connections at most (kept alive and reused): a TLS handshake
    // per simulated pod, client and server ends in this one process on 2 cores, did not complete
    // within the connect timeout at 1,000 pods (each retry a new handshake), and 10,000
    // connections are 20,000 file descriptors, the limit. A report waiting for a permit counts in
    // its latency. -Dbench.https.connections=N to change.
    private static final int MAX_IN_FLIGHT = Integer.getInteger("bench.https.connections", 64);
    private final java.util.concurrent.Semaphore permits =
        new java.util.concurrent.Semaphore(MAX_IN_FLIGHT);
    private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> waiting =
        new java.util.concurrent.ConcurrentLinkedQueue<>();

    HttpsSender(int port, javax.net.ssl.SSLContext tls) {
      this.http =
          java.net.http.HttpClient.newBuilder()
              .version(java.net.http.HttpClient.Version.HTTP_1_1)
              .sslContext(tls)
              .connectTimeout(Duration.ofSeconds(30))
              .build();
      this.uri = java.net.URI.create("https://localhost:" + port + "/v1/reports");
    }

    @Override
    public java.util.concurrent.CompletableFuture<ReportReply> send(Pod p, UsageReport report) {
      var out = new java.util.concurrent.CompletableFuture<ReportReply>();
      Runnable go =
          () ->
              post(p, report)
                  .whenComplete(
                      (r, e) -> {
                        next();
                        if (e != null) {
                          out.completeExceptionally(e);
                        } else {
                          out.complete(r);
                        }
                      });
      if (permits.tryAcquire()) {
        go.run();
      } else {
        waiting.add(go);
        if (permits.tryAcquire()) {
          next();
        }
      }
      return out;
    }

    /** Hands a freed permit to the next waiting report. */
    private void next() {
      Runnable r = waiting.poll();
      if (r != null) {
        r.run();
        return;
      }
      permits.release();
      if (!waiting.isEmpty() && permits.tryAcquire()) {
        next();
      }
    }

    private java.util.concurrent.CompletableFuture<ReportReply> post(Pod p, UsageReport report) {
      byte[] body;
      try {
        body = JSON.writeValueAsBytes(report);
      } catch (java.io.IOException e) {
        return java.util.concurrent.CompletableFuture.failedFuture(e);
      }
      return http.sendAsync(
              java.net.http.HttpRequest.newBuilder(uri)
                  .timeout(Duration.ofSeconds(10))
                  .header("Authorization", "Bearer " + p.token)
                  .header("Content-Type", "application/json")
                  .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofByteArray())
          .thenApply(
              r -> {
                if (r.statusCode() != 200) {
                  throw new IllegalStateException("report answered " + r.statusCode());
                }
                try {
                  return JSON.readValue(r.body(), ReportReply.class);
                } catch (java.io.IOException e) {
                  throw new IllegalStateException(e);
                }
              });
    }
  }

  /** Counts the bytes of every object the mock API server stores on a write. */
  static class CountingDispatcher extends KubernetesCrudDispatcher {
    final AtomicLong ledgerBytes = new AtomicLong();
    final AtomicLong ledgerWrites = new AtomicLong();
    final AtomicLong journalBytes = new AtomicLong();
    final AtomicLong journalWrites = new AtomicLong();
    final AtomicLong statusBytes = new AtomicLong();
    final AtomicLong otherBytes = new AtomicLong();
    final Map<String, Long> ledgerSizes = new ConcurrentHashMap<>();

    // the mock's own time per write (create, update, patch), 1 ms buckets: the gateway's time
    // apart from the mock's, which shares the cores with everything else
    final AtomicLongArray writeMillis = new AtomicLongArray(LATENCY_BUCKETS + 1);

    /** TokenReviews the API server was asked for (HTTPS mode: through the report server). */
    final AtomicLong tokenReviews = new AtomicLong();

    /**
     * Every request the mock API server was sent, by kind ("PUT configmaps tollgate-system/
     * journal", "GET budgets list", ...): what a batch costs in round trips, conflicts included.
     */
    final Map<String, java.util.concurrent.atomic.LongAdder> requests = new ConcurrentHashMap<>();

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String kind = kind(request.getMethod(), request.getPath());
      if ("POST configmaps (create)".equals(kind)) {
        // a create names its object in the body: the operator's journal slots and ledgers apart
        // (getBytes, not getUtf8Body: reading the body empties it for the handler)
        String body =
            request.getBody() == null
                ? ""
                : new String(request.getBody().getBytes(), StandardCharsets.UTF_8);
        if (body.contains("\"spend-journal\"")) {
          kind = "POST configmaps journal slot (create)";
        } else if (body.contains("\"spend-ledger\"")) {
          kind = "POST configmaps ledger (create)";
        }
      }
      requests.computeIfAbsent(kind, k -> new java.util.concurrent.atomic.LongAdder()).increment();
      return super.dispatch(request);
    }

    /**
     * A request's kind: method, resource, named or not (a LIST or a create), subresource; the
     * operator's ConfigMaps by what they hold (ledger, journal slot), watches apart.
     */
    static String kind(String method, String path) {
      String[] pathAndQuery = path.split("\\?", 2);
      String query = pathAndQuery.length > 1 ? pathAndQuery[1] : "";
      String[] parts = pathAndQuery[0].split("/");
      int ns = java.util.Arrays.asList(parts).indexOf("namespaces");
      // /api/v1/namespaces/<ns>/<resource>[/<name>[/<sub>]] or /apis/<g>/<v>/namespaces/...
      int resource = ns > 0 && parts.length > ns + 2 ? ns + 2 : parts.length - 1;
      String what = parts[resource];
      String name = parts.length > resource + 1 ? parts[resource + 1] : null;
      String sub = parts.length > resource + 2 ? "/" + parts[resource + 2] : "";
      if (query.contains("watch=true")) {
        return "WATCH " + what;
      }
      if (name == null) {
        return method + " " + what + ("GET".equals(method) ? " (list)" : " (create)");
      }
      if ("configmaps".equals(what) && name.startsWith("tollgate-spend-")) {
        return method + " configmaps " + (name.contains(".j-") ? "journal slot" : "ledger") + sub;
      }
      return method + " " + what + sub;
    }

    /** The requests counted so far, by kind. */
    Map<String, Long> requestCounts() {
      Map<String, Long> out = new java.util.TreeMap<>();
      requests.forEach((k, v) -> out.put(k, v.sum()));
      return out;
    }

    @Override
    public MockResponse handleCreate(RecordedRequest request) {
      if (request.getPath().startsWith("/apis/authentication.k8s.io/v1/tokenreviews")) {
        return tokenReview(request);
      }
      long t = System.nanoTime();
      return timed(t, count(request, super.handleCreate(request)));
    }

    @Override
    public MockResponse handleUpdate(RecordedRequest request) {
      long t = System.nanoTime();
      return timed(t, count(request, super.handleUpdate(request)));
    }

    @Override
    public MockResponse handlePatch(RecordedRequest request) {
      long t = System.nanoTime();
      return timed(t, count(request, super.handlePatch(request)));
    }

    /**
     * Answers a TokenReview as the API server does for a pod-bound projected token: the bench's
     * tokens are {@code header.base64url(namespace/pod/uid).signature}.
     */
    private MockResponse tokenReview(RecordedRequest request) {
      tokenReviews.incrementAndGet();
      io.fabric8.kubernetes.api.model.authentication.TokenReview review =
          io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
              request.getUtf8Body(),
              io.fabric8.kubernetes.api.model.authentication.TokenReview.class);
      String[] parts = review.getSpec().getToken().split("\\.");
      String[] who =
          new String(java.util.Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
              .split("/");
      review.setStatus(
          new io.fabric8.kubernetes.api.model.authentication.TokenReviewStatusBuilder()
              .withAuthenticated(true)
              .withAudiences(TokenReviewer.AUDIENCE)
              .withNewUser()
              .withUsername("system:serviceaccount:" + who[0] + ":default")
              .addToExtra("authentication.kubernetes.io/pod-name", List.of(who[1]))
              .addToExtra("authentication.kubernetes.io/pod-uid", List.of(who[2]))
              .endUser()
              .build());
      return new MockResponse()
          .setResponseCode(201)
          .setBody(io.fabric8.kubernetes.client.utils.Serialization.asJson(review));
    }

    private MockResponse timed(long start, MockResponse response) {
      long ms = (System.nanoTime() - start) / 1_000_000;
      writeMillis.incrementAndGet((int) Math.min(ms, LATENCY_BUCKETS));
      return response;
    }

    private MockResponse count(RecordedRequest request, MockResponse response) {
      if (response.code() >= 300 || response.getBody() == null) {
        return response;
      }
      long size = response.getBody().size();
      String path = request.getPath();
      // the stored object as the server answers it (the request body is read by then)
      String body =
          new String(response.getBody().getBytes(), java.nio.charset.StandardCharsets.UTF_8);
      boolean spend =
          path.contains("/configmaps")
              && (path.contains("tollgate-spend") || body.contains("tollgate-spend"));
      if (spend && body.contains("\"spend-journal\"")) {
        // a journal batch (created once, deleted once folded) or the journal head
        ledgerBytes.addAndGet(size);
        journalBytes.addAndGet(size);
        journalWrites.incrementAndGet();
      } else if (spend && path.contains("tollgate-spend")) {
        ledgerBytes.addAndGet(size);
        ledgerWrites.incrementAndGet();
        ledgerSizes.put(path.replaceAll("\\?.*", ""), size);
      } else if (spend) {
        // a create POSTs to the collection: the name is in the body
        ledgerBytes.addAndGet(size);
        ledgerWrites.incrementAndGet();
        java.util.regex.Matcher name =
            java.util.regex.Pattern.compile("\"name\"\\s*:\\s*\"([^\"]+)\"").matcher(body);
        ledgerSizes.put(name.find() ? path + "/" + name.group(1) : path, size);
      } else if (path.endsWith("/status") || path.contains("/status?")) {
        statusBytes.addAndGet(size);
      } else {
        otherBytes.addAndGet(size);
      }
      return response;
    }
  }

  /**
   * Scenario mode "keyed" (an extra yardstick, never the stock one): fabric8's mock API server
   * finds the object a write replaces (or a create collides with) by scanning every object it
   * stores; this one looks it up by name first, as a real API server looks an object up by key, so
   * the rows separate the operator's latency from the mock's scan. GETs and LISTs still scan.
   */
  static final class KeyedDispatcher extends CountingDispatcher {
    /** The mock's store, indexed by the objects' name attribute as it is written. */
    private static final class Indexed
        extends java.util.LinkedHashMap<io.fabric8.mockwebserver.crud.AttributeSet, String> {
      final Map<String, java.util.Set<io.fabric8.mockwebserver.crud.AttributeSet>> byName =
          new java.util.HashMap<>();

      static String name(io.fabric8.mockwebserver.crud.AttributeSet a) {
        io.fabric8.mockwebserver.crud.Attribute name = a.getAttribute("name");
        return name == null ? null : name.toString();
      }

      @Override
      public String put(io.fabric8.mockwebserver.crud.AttributeSet key, String value) {
        String name = name(key);
        if (name != null) {
          byName.computeIfAbsent(name, n -> new java.util.HashSet<>()).add(key);
        }
        return super.put(key, value);
      }

      @Override
      public String remove(Object key) {
        if (key instanceof io.fabric8.mockwebserver.crud.AttributeSet a && name(a) != null) {
          var same = byName.get(name(a));
          if (same != null) {
            same.remove(a);
          }
        }
        return super.remove(key);
      }

      @Override
      public void clear() {
        byName.clear();
        super.clear();
      }
    }

    private final Indexed index = new Indexed();

    KeyedDispatcher() {
      try {
        java.lang.reflect.Field map =
            io.fabric8.mockwebserver.crud.CrudDispatcher.class.getDeclaredField("map");
        map.setAccessible(true);
        map.set(this, index);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("fabric8's mock changed: no keyed lookup", e);
      }
    }

    @Override
    public Map.Entry<io.fabric8.mockwebserver.crud.AttributeSet, String> findResource(
        io.fabric8.mockwebserver.crud.AttributeSet key) {
      String name = Indexed.name(key);
      if (name == null) {
        return super.findResource(key);
      }
      var same = index.byName.get(name);
      if (same != null) {
        for (var candidate : same) {
          if (candidate.matches(key) && index.containsKey(candidate)) {
            found.increment();
            return Map.entry(candidate, index.get(candidate));
          }
        }
      }
      scanned.increment(); // not by name (a create, mostly): the stock scan
      return super.findResource(key);
    }

    final java.util.concurrent.atomic.LongAdder found = new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder scanned =
        new java.util.concurrent.atomic.LongAdder();
  }

  /** One simulated sidecar. */
  private static final class Pod {
    final String namespace;
    final String name;
    final String uid;
    final String boot = Long.toHexString(ThreadLocalRandom.current().nextLong());
    long sequence;
    long lastTick = System.nanoTime();
    double pendingCalls; // metered since the last report was built, in calls
    UsageReport unanswered;
    BigDecimal allowance = BigDecimal.ZERO;
    BigDecimal spentSinceGrant = BigDecimal.ZERO;
    boolean granted;
    volatile boolean inFlight;
    volatile long nextIntervalMillis;

    final String token;

    Pod(String namespace, int i) {
      this.namespace = namespace;
      this.name = namespace + "-pod-" + i;
      this.uid = java.util.UUID.nameUUIDFromBytes(name.getBytes()).toString();
      // shaped like a projected token (a JWS); the mock API server's TokenReview reads the middle
      var b64 = java.util.Base64.getUrlEncoder().withoutPadding();
      this.token =
          b64.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8))
              + "."
              + b64.encodeToString(
                  (namespace + "/" + name + "/" + uid).getBytes(StandardCharsets.UTF_8))
              + ".c2ln";
    }
  }

  /**
   * The tests' configuration with the operator's own defaults for what changes the request rate:
   * the Secret recheck (tests use 1 s, the default is 30 s) and the status usage interval (tests
   * write usage at once, the default is every 15 s). With the tests' values the bench measured 14
   * Secret GETs and 20 status patches a second at 100 namespaces that a deployed operator does not
   * make.
   */
  static dev.tollgate.operator.OperatorConfig productionIntervals(
      dev.tollgate.operator.OperatorConfig c) {
    return new dev.tollgate.operator.OperatorConfig(
        c.watchNamespaces(),
        c.operatorNamespace(),
        c.leaderElection(),
        c.leaseName(),
        c.leaseDuration(),
        c.identity(),
        c.httpPort(),
        c.configMapName(),
        c.useSsaForStatus(),
        c.resyncInterval(),
        c.reconcileThreads(),
        dev.tollgate.operator.OperatorConfig.DEFAULT_SECRET_RECHECK,
        dev.tollgate.operator.OperatorConfig.DEFAULT_STATUS_USAGE_INTERVAL);
  }

  public static void main(String[] args) throws Exception {
    int pods = Integer.parseInt(args[0]);
    int namespaces = Integer.parseInt(args[1]);
    int seconds = Integer.parseInt(args[2]);
    Duration interval = Duration.parse("PT" + args[3]);
    Path out = Path.of(args[4]);
    // "https": the simulated sidecars POST their reports to the report server over HTTPS with
    // their token, and the server's cached TokenReviewer asks the mock API server
    boolean https = args.length > 5 && "https".equals(args[5]);
    int warmup = Math.max(10, (int) (interval.toSeconds() * 3));

    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver")
        .setLevel(java.util.logging.Level.WARNING);
    // "keyed": writes find their object by name (an extra yardstick; the stock mock scans)
    boolean keyed = args.length > 5 && "keyed".equals(args[5]);
    CountingDispatcher dispatcher = keyed ? new KeyedDispatcher() : new CountingDispatcher();
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init();
    KubernetesClient client = server.createClient();
    TollgateOperator operator =
        new TollgateOperator(
            productionIntervals(MockApi.config(false, "bench")),
            client,
            new OperatorMetrics(new PrometheusRegistry()),
            Clock.systemUTC(),
            false);
    operator.start();

    int perNamespace = pods / namespaces;
    // the limit is reached about 60 % into the measured window at full speed
    BigDecimal limit =
        PER_CALL
            .multiply(BigDecimal.valueOf(perNamespace * RATE * (warmup + seconds * 0.6)))
            .setScale(2, RoundingMode.HALF_UP);
    List<String> nsNames = new ArrayList<>();
    for (int n = 0; n < namespaces; n++) {
      String ns = "team-" + n;
      nsNames.add(ns);
      MockApi.apply(client, Fixtures.secret(ns, "openai-key", "api-key"));
      ProviderCredential credential =
          Fixtures.credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key");
      MockApi.apply(client, credential);
      Budget budget = Fixtures.budget(ns, "monthly", limit.toPlainString());
      budget.getSpec().setOnExceeded(BudgetSpec.ExceededAction.BLOCK);
      MockApi.apply(client, budget);
      LLMRoute route =
          Fixtures.withBudget(
              Fixtures.route(ns, "chat", "chat", Fixtures.tier("main", "openai", "gpt-4o")),
              "monthly");
      MockApi.apply(client, route);
    }

    AtomicLong tokenReviews = new AtomicLong();
    TokenReviewer reviewer =
        https
            ? new dev.tollgate.operator.report.KubernetesTokenReviewer(client)
            : t -> {
              tokenReviews.incrementAndGet();
              return Optional.of(new TokenReviewer.Identity(t, "default", "bench-pod", null));
            };
    WebhookTls tls = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
    ReportChannel channel =
        ReportChannel.start(
            ReportChannel.Settings.fromEnv(System.getenv(), "tollgate-system").withPort(0),
            client,
            tls.serverContext(),
            reviewer,
            Clock.systemUTC());
    Accounting accounting = channel.accounting();
    Sender sender =
        https
            ? new HttpsSender(channel.port(), tls.clientContextTrustingCa())
            : (p, report) -> {
              reviewer.review(p.namespace); // the report endpoint reviews every report's token
              return accounting.submit(report);
            };

    List<Pod> all = new ArrayList<>();
    for (String ns : nsNames) {
      for (int i = 0; i < perNamespace; i++) {
        all.add(new Pod(ns, i));
      }
    }
    AtomicLongArray latency = new AtomicLongArray(LATENCY_BUCKETS + 1);
    AtomicLong answered = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong timedOut = new AtomicLong();
    AtomicLong submitted = new AtomicLong();
    ScheduledExecutorService clients =
        Executors.newScheduledThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "bench-sidecars");
              t.setDaemon(true);
              return t;
            });
    SENDER = sender;
    long intervalMs = interval.toMillis();
    for (Pod p : all) {
      p.nextIntervalMillis = intervalMs;
      scheduleNext(
          clients,
          p,
          ThreadLocalRandom.current().nextLong(intervalMs),
          accounting,
          reviewer,
          latency,
          answered,
          failed,
          timedOut,
          submitted);
    }

    System.out.printf("warming up %d s with %d pods in %d namespaces%n", warmup, pods, namespaces);
    Thread.sleep(warmup * 1000L);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long cpu0 = accountingCpu(threads);
    long process0 = processCpu();
    long ledger0 = dispatcher.ledgerBytes.get();
    long ledgerWrites0 = dispatcher.ledgerWrites.get();
    long journal0 = dispatcher.journalBytes.get();
    long journalWrites0 = dispatcher.journalWrites.get();
    long status0 = dispatcher.statusBytes.get();
    long other0 = dispatcher.otherBytes.get();
    long reviews0 = tokenReviews.get();
    long apiReviews0 = dispatcher.tokenReviews.get();
    long answered0 = answered.get();
    long failed0 = failed.get();
    long timedOut0 = timedOut.get();
    long[] folds0 = accounting.folds();
    Map<String, Long> requests0 = dispatcher.requestCounts();
    for (int i = 0; i < LATENCY_BUCKETS + 1; i++) {
      latency.set(i, 0);
      dispatcher.writeMillis.set(i, 0);
    }
    long t0 = System.nanoTime();
    Thread.sleep(seconds * 1000L);
    double elapsed = (System.nanoTime() - t0) / 1e9;
    long cpu = accountingCpu(threads) - cpu0;
    long process = processCpu() - process0;
    long ledgerBytes = dispatcher.ledgerBytes.get() - ledger0;
    long ledgerWrites = dispatcher.ledgerWrites.get() - ledgerWrites0;
    long journalBytes = dispatcher.journalBytes.get() - journal0;
    long journalWrites = dispatcher.journalWrites.get() - journalWrites0;
    long statusBytes = dispatcher.statusBytes.get() - status0;
    long otherBytes = dispatcher.otherBytes.get() - other0;
    long reviews = tokenReviews.get() - reviews0;
    long apiReviews = dispatcher.tokenReviews.get() - apiReviews0;
    long answeredInWindow = answered.get() - answered0;
    long failedInWindow = failed.get() - failed0;
    long timedOutInWindow = timedOut.get() - timedOut0;
    long[] folds = accounting.folds();
    Map<String, Long> requestsInWindow = new java.util.TreeMap<>();
    dispatcher
        .requestCounts()
        .forEach((k, v) -> requestsInWindow.put(k, v - requests0.getOrDefault(k, 0L)));
    requestsInWindow.values().removeIf(v -> v == 0);
    long allRequests = requestsInWindow.values().stream().mapToLong(Long::longValue).sum();
    System.out.printf("API requests in the %.0f s window, by kind (a second):%n", elapsed);
    requestsInWindow.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> System.out.printf("  %8.1f  %s%n", e.getValue() / elapsed, e.getKey()));
    if (dispatcher instanceof KeyedDispatcher k) {
      System.out.printf(
          "keyed mock: %d writes found their object by name, %d scanned%n",
          k.found.sum(), k.scanned.sum());
    }
    // in flight when the window closed: answered later (or counted in failed), not lost
    long inFlight = submitted.get() - answered.get() - failed.get();
    clients.shutdownNow();
    clients.awaitTermination(5, TimeUnit.SECONDS);

    // every pod delivers what it has metered (its final report), then the ledger is read
    List<java.util.concurrent.CompletableFuture<ReportReply>> finals = new ArrayList<>();
    for (Pod p : all) {
      finals.add(finalReport(p, accounting));
    }
    int undelivered = 0;
    for (var f : finals) {
      try {
        f.get(120, TimeUnit.SECONDS);
      } catch (Exception e) {
        undelivered++;
      }
    }
    BigDecimal worst = BigDecimal.valueOf(-100);
    for (String ns : nsNames) {
      BigDecimal spent = spent(client, ns);
      BigDecimal over =
          spent.subtract(limit).multiply(BigDecimal.valueOf(100)).divide(limit, 3, RoundingMode.UP);
      worst = worst.max(over);
    }
    // every request to fabric8's mock costs a scan over all the objects it stores (one event-loop
    // thread): the journal slots are most of them
    int stored =
        client
            .configMaps()
            .inNamespace(ConfigMapLedgerStore.DEFAULT_OPERATOR_NAMESPACE)
            .list()
            .getItems()
            .size();
    long maxLedger =
        dispatcher.ledgerSizes.values().stream().mapToLong(Long::longValue).max().orElse(0);
    double meanLedger =
        dispatcher.ledgerSizes.values().stream().mapToLong(Long::longValue).average().orElse(0);
    // Without HTTPS: one review per report is what an uncached server would ask, and the cache by
    // token hash allows one per pod a minute (an estimate, shown with "~"). With HTTPS: every
    // report goes through the server's CachingTokenReviewer, and the TokenReviews the mock API
    // server answered are counted.
    String uncachedReviews =
        https
            ? String.format("%.0f", answeredInWindow / elapsed)
            : String.format("%.0f", reviews / elapsed);
    String cachedReviews =
        https
            ? String.format("%.1f (measured)", apiReviews / elapsed)
            : String.format("~%.0f", Math.min(reviews / elapsed, pods / 60.0));
    String row =
        String.format(
            "| %,d | %d | %s%s | %.0f | %d | %,.1f | %,.1f | %.1f | %,.0f | %,.0f | %,.0f | %.0f %% | %.0f %% | %s | %s | %s | %s | %d (%d timed out) / %d / %d | %s | %s | %.1f | %,.0f | %s / %s / %s | %d / %d | %,d | %s |%n",
            pods,
            namespaces,
            args[3],
            https ? " (HTTPS)" : keyed ? " (mock keyed by name)" : "",
            answeredInWindow / elapsed,
            dispatcher.ledgerSizes.size(),
            maxLedger / 1024.0,
            meanLedger / 1024.0,
            ledgerWrites / elapsed,
            ledgerBytes / elapsed / 1024,
            statusBytes / elapsed / 1024,
            (ledgerBytes + statusBytes + otherBytes) / elapsed / 1024,
            cpu / 1e9 / elapsed * 100,
            process / 1e9 / elapsed * 100,
            uncachedReviews,
            cachedReviews,
            percentile(latency, 0.50),
            percentile(latency, 0.99),
            failedInWindow,
            timedOutInWindow,
            inFlight,
            undelivered,
            worst.toPlainString() + " %",
            // the documented bound: one call in flight per sidecar when its allowance ran out
            PER_CALL
                    .multiply(BigDecimal.valueOf(perNamespace * 100L))
                    .divide(limit, 3, RoundingMode.UP)
                    .toPlainString()
                + " %",
            journalWrites / elapsed,
            journalBytes / elapsed / 1024,
            percentile(dispatcher.writeMillis, 0.50),
            percentile(dispatcher.writeMillis, 0.99),
            percentile(dispatcher.writeMillis, 0.999),
            folds[0] - folds0[0],
            folds[1] - folds0[1],
            stored,
            requestSummary(requestsInWindow, allRequests, elapsed));
    System.out.print(row);
    Files.writeString(out, row, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    channel.close();
    operator.close();
    client.close();
    server.destroy();
    System.exit(0);
  }

  private static void scheduleNext(
      ScheduledExecutorService clients,
      Pod p,
      long delayMs,
      Accounting accounting,
      TokenReviewer reviewer,
      AtomicLongArray latency,
      AtomicLong answered,
      AtomicLong failed,
      AtomicLong timedOut,
      AtomicLong submitted) {
    try {
      clients.schedule(
          () -> {
            tick(p, accounting, reviewer, latency, answered, failed, timedOut, submitted);
            scheduleNext(
                clients,
                p,
                p.nextIntervalMillis,
                accounting,
                reviewer,
                latency,
                answered,
                failed,
                timedOut,
                submitted);
          },
          delayMs,
          TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // stopping
    }
  }

  private static synchronized void meter(Pod p) {
    long now = System.nanoTime();
    double calls = (now - p.lastTick) / 1e9 * RATE;
    p.lastTick = now;
    if (!p.granted) {
      return; // a sidecar enforces nothing before its first reply; the bench starts it idle
    }
    // admitted while the allowance lasts; the call that crosses it is already in flight
    while (calls >= 1 && p.spentSinceGrant.compareTo(p.allowance) < 0) {
      p.pendingCalls++;
      p.spentSinceGrant = p.spentSinceGrant.add(PER_CALL);
      calls--;
    }
  }

  private static void tick(
      Pod p,
      Accounting accounting,
      TokenReviewer reviewer,
      AtomicLongArray latency,
      AtomicLong answered,
      AtomicLong failed,
      AtomicLong timedOut,
      AtomicLong submitted) {
    if (p.inFlight) {
      return;
    }
    meter(p);
    UsageReport report;
    synchronized (p) {
      if (p.unanswered == null) {
        p.sequence++;
        long calls = (long) p.pendingCalls;
        p.pendingCalls -= calls;
        p.unanswered = report(p, calls, false);
      }
      report = p.unanswered;
      p.inFlight = true;
    }
    long start = System.nanoTime();
    submitted.incrementAndGet();
    SENDER
        .send(p, report)
        .orTimeout(10, TimeUnit.SECONDS)
        .whenComplete(
            (reply, error) -> {
              long ms = (System.nanoTime() - start) / 1_000_000;
              latency.incrementAndGet((int) Math.min(ms, LATENCY_BUCKETS));
              synchronized (p) {
                p.inFlight = false;
                if (error != null) {
                  if (failed.incrementAndGet() <= 3) {
                    System.out.println("a report failed: " + error); // the first few, to see why
                  }
                  if (error instanceof java.util.concurrent.TimeoutException) {
                    timedOut.incrementAndGet();
                  }
                  return;
                }
                answered.incrementAndGet();
                p.unanswered = null;
                for (ReportReply.BudgetState b : reply.budgets()) {
                  p.allowance = new BigDecimal(b.allowanceUsd());
                  p.spentSinceGrant = BigDecimal.ZERO;
                  p.granted = true;
                }
                Long next = nextInterval(reply);
                if (next != null) {
                  p.nextIntervalMillis = next;
                }
              }
            });
  }

  /** The report interval the reply asks for, where the operator sends one. */
  private static Long nextInterval(ReportReply reply) {
    return reply.reportIntervalMillis();
  }

  private static java.util.concurrent.CompletableFuture<ReportReply> finalReport(
      Pod p, Accounting accounting) {
    synchronized (p) {
      meter(p);
      if (p.unanswered == null) {
        p.sequence++;
        long calls = (long) p.pendingCalls;
        p.pendingCalls -= calls;
        p.unanswered = report(p, calls, true);
      }
      UsageReport r = p.unanswered;
      // resend until applied, as the sidecar's shutdown does
      return accounting
          .submit(r)
          .exceptionallyCompose(e -> accounting.submit(r))
          .exceptionallyCompose(e -> accounting.submit(r));
    }
  }

  private static UsageReport report(Pod p, long calls, boolean last) {
    List<UsageReport.Line> lines =
        calls == 0
            ? List.of()
            : List.of(
                UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                    .requests(calls)
                    .inputTokens(calls * 1000)
                    .outputTokens(calls * 300)
                    .costUsd(PER_CALL.multiply(BigDecimal.valueOf(calls)).toPlainString())
                    .build());
    List<UsageReport.TargetState> targets =
        List.of(
            new UsageReport.TargetState(
                "chat",
                "main",
                "openai",
                "gpt-4o",
                "Closed",
                (int) Math.max(calls, 1),
                0f,
                420,
                900,
                null,
                null));
    return UsageReport.builder(
            p.namespace, p.name, p.uid, p.boot, p.sequence, "sha256:0123456789abcdef")
        .lines(lines)
        .targets(targets)
        .last(last)
        .build();
  }

  private static BigDecimal spent(KubernetesClient client, String ns) {
    SpendLedger.BudgetSpend b = ConfigMapLedgerStore.read(client, ns).budgets.get("monthly");
    return b == null ? BigDecimal.ZERO : b.spentUsd();
  }

  /**
   * Requests a second to the API server: all, then the journal slot writes, ledger writes, status
   * writes, other writes (incl. deletes and TokenReviews), GETs and LISTs (watches are opened once
   * and not counted).
   */
  static String requestSummary(Map<String, Long> requests, long all, double elapsed) {
    long journal = 0;
    long ledger = 0;
    long status = 0;
    long otherWrites = 0;
    long gets = 0;
    long lists = 0;
    for (Map.Entry<String, Long> e : requests.entrySet()) {
      String k = e.getKey();
      long v = e.getValue();
      if (k.startsWith("WATCH")) {
        all -= v;
      } else if (k.startsWith("GET")) {
        if (k.endsWith("(list)")) {
          lists += v;
        } else {
          gets += v;
        }
      } else if (k.contains("journal slot")) {
        journal += v;
      } else if (k.contains("configmaps ledger")) {
        ledger += v;
      } else if (k.endsWith("/status")) {
        status += v;
      } else {
        otherWrites += v;
      }
    }
    return String.format(
        "%.0f (%.0f / %.1f / %.1f / %.1f / %.1f / %.1f)",
        all / elapsed,
        journal / elapsed,
        ledger / elapsed,
        status / elapsed,
        otherWrites / elapsed,
        gets / elapsed,
        lists / elapsed);
  }

  private static long accountingCpu(ThreadMXBean threads) {
    long total = 0;
    for (ThreadInfo info : threads.dumpAllThreads(false, false)) {
      if (info.getThreadName().startsWith("tollgate-accounting")) {
        long t = threads.getThreadCpuTime(info.getThreadId());
        total += Math.max(0, t);
      }
    }
    return total;
  }

  private static long processCpu() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static String percentile(AtomicLongArray latency, double q) {
    long total = 0;
    for (int i = 0; i < latency.length(); i++) {
      total += latency.get(i);
    }
    if (total == 0) {
      return "-";
    }
    long rank = (long) Math.ceil(total * q);
    long seen = 0;
    for (int i = 0; i < latency.length(); i++) {
      seen += latency.get(i);
      if (seen >= rank) {
        return i >= LATENCY_BUCKETS ? "> 60,000" : String.format("%,d", i);
      }
    }
    return "-";
  }
}
