package dev.tollgate.sidecar.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.tollgate.sidecar.budget.BudgetGate;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.runtime.ApiKeyStore;
import dev.tollgate.sidecar.runtime.ConfigSource;
import java.io.InputStream;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A sidecar whose report the operator refuses (issue #16) keeps reporting: a 400 is split into
 * reports the validator accepts, or set aside when it cannot be split, and later usage flows; a 403
 * is retried with a growing pause; a 429's Retry-After is honoured. Each failed before: the refused
 * report was resent forever, every interval.
 */
class ReporterRefusalIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Path dir;
  private static SSLContext tls;
  private static String caPem;

  /** One request the fake operator received, and when. */
  record Received(long nanos, JsonNode report) {}

  /** The fake operator's answer to a report: status, body, Retry-After (or null). */
  record Answer(int status, String body, String retryAfter) {
    static Answer ok(JsonNode report) {
      return new Answer(
          200, "{\"acknowledgedSequence\":" + report.path("sequence").asLong() + "}", null);
    }
  }

  private HttpsServer server;
  private Reporter reporter;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final ProxyMetrics metrics = new ProxyMetrics();
  private final UsageLedger ledger = new UsageLedger();

  private static void keytool(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException("keytool failed: " + out);
    }
  }

  @BeforeAll
  static void certificate() throws Exception {
    dir = Files.createTempDirectory("tollgate-refusal");
    Path store = dir.resolve("operator.p12");
    keytool(
        "-genkeypair",
        "-alias",
        "op",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=operator",
        "-ext",
        "SAN=ip:127.0.0.1",
        "-validity",
        "2",
        "-keystore",
        store.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        "changeit",
        "-keypass",
        "changeit");
    Path ca = dir.resolve("ca.pem");
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "op",
        "-keystore",
        store.toString(),
        "-storepass",
        "changeit",
        "-file",
        ca.toString());
    caPem = Files.readString(ca);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    Files.writeString(dir.resolve("token"), "a.b.c");
  }

  private Reporter start(Function<JsonNode, Answer> operator, Path spool) throws Exception {
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    server.createContext(
        "/v1/reports",
        (HttpExchange ex) -> {
          JsonNode report = JSON.readTree(ex.getRequestBody().readAllBytes());
          received.add(new Received(System.nanoTime(), report));
          Answer a = operator.apply(report);
          if (a.retryAfter() != null) {
            ex.getResponseHeaders().add("Retry-After", a.retryAfter());
          }
          byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(a.status(), body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
    ReporterSettings settings =
        new ReporterSettings(
            URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/v1/reports"),
            dir.resolve("token"),
            caPem,
            "team-a",
            "pod-1",
            "uid-1",
            Duration.ofMillis(50));
    reporter =
        new Reporter(
                settings,
                ledger,
                new ConfigSource(dir.resolve("none.yaml"), new ApiKeyStore(), metrics),
                new BudgetGate())
            .withRefusalCounter(metrics::reportRefused);
    if (spool != null) {
      reporter.withSpool(new ReportSpool(spool));
    }
    reporter.start();
    return reporter;
  }

  @AfterEach
  void stop() {
    if (reporter != null) {
      reporter.finish(Duration.ZERO);
    }
    if (server != null) {
      server.stop(0);
    }
  }

  private void use(String route) {
    ledger.recordCacheHit(
        new UsageLedger.Key(route, "main", "openai", "gpt-4o-mini"),
        new Usage(10, 5, 0, 0),
        new BigDecimal("0.001"));
  }

  /** Routes of the lines the fake operator accepted. */
  private List<String> acceptedRoutes(java.util.function.Predicate<JsonNode> accepted) {
    return received.stream()
        .map(Received::report)
        .filter(accepted)
        .flatMap(r -> Stream.of(r.path("lines")).flatMap(l -> streamOf(l)))
        .map(l -> l.path("route").asText())
        .sorted()
        .toList();
  }

  private static Stream<JsonNode> streamOf(JsonNode array) {
    List<JsonNode> out = new ArrayList<>();
    array.forEach(out::add);
    return out.stream();
  }

  private double metric(String sample) {
    for (String line : new String(metrics.scrape(), StandardCharsets.UTF_8).split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1));
      }
    }
    return 0;
  }

  @Test
  void aReportOverTheValidatorsCapIsSplitAndEveryLineArrives() throws Exception {
    // this operator accepts at most one line per report
    java.util.function.Predicate<JsonNode> small = r -> r.path("lines").size() <= 1;
    use("a");
    use("b");
    use("c");
    start(
        r -> small.test(r) ? Answer.ok(r) : new Answer(400, "lines: at most 1, got 3", null),
        dir.resolve("spool-split"));
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(acceptedRoutes(small)).containsExactly("a", "b", "c"));
    assertThat(metric("tollgate_reports_refused_total{status=\"400\"}")).isGreaterThan(0);
    // and later usage still goes out
    use("d");
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(acceptedRoutes(small)).contains("d"));
    // sequences only grow
    List<Long> sequences =
        received.stream().map(r -> r.report().path("sequence").asLong()).toList();
    assertThat(sequences).isSorted();
  }

  @Test
  void aReportOverTheOperatorsBodyLimitIsSplitToo() throws Exception {
    java.util.function.Predicate<JsonNode> small = r -> r.path("lines").size() <= 1;
    use("e");
    use("f");
    start(
        r -> small.test(r) ? Answer.ok(r) : new Answer(413, "request body too large", null),
        dir.resolve("spool-413"));
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(acceptedRoutes(small)).contains("e", "f"));
  }

  @Test
  void aReportThatCannotBeSplitIsSetAsideAndLaterUsageFlows() throws Exception {
    Path spool = dir.resolve("spool-aside");
    java.util.function.Predicate<JsonNode> fine =
        r -> streamOf(r.path("lines")).noneMatch(l -> l.path("route").asText().equals("bad"));
    use("bad");
    start(
        r -> fine.test(r) ? Answer.ok(r) : new Answer(400, "lines[0].route: too long", null),
        spool);
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              try (Stream<Path> files = Files.list(spool)) {
                assertThat(files.map(f -> f.getFileName().toString()))
                    .anyMatch(n -> n.endsWith(".refused"));
              }
            });
    use("good");
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(acceptedRoutes(fine)).contains("good"));
    // the refused report was sent once, not every interval since
    assertThat(received.stream().filter(r -> !fine.test(r.report()))).hasSize(1);
    assertThat(metric("tollgate_reports_refused_total{status=\"400\"}")).isEqualTo(1.0);
  }

  @Test
  void a403IsRetriedWithAGrowingPauseAndTheUsageKept() throws Exception {
    use("a");
    start(r -> received.size() <= 4 ? new Answer(403, "token refused", null) : Answer.ok(r), null);
    Awaitility.await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(() -> assertThat(reporter.acknowledged()).isPositive());
    assertThat(acceptedRoutes(r -> true)).contains("a");
    // 50 ms interval: pauses of 50, 100, 200, 400 ms between the refused attempts
    // without the backoff the fifth attempt would follow the fourth after one interval (50 ms)
    long gap4 = received.get(4).nanos() - received.get(3).nanos();
    assertThat(Duration.ofNanos(gap4)).isGreaterThanOrEqualTo(Duration.ofMillis(350));
    assertThat(metric("tollgate_reports_refused_total{status=\"403\"}")).isEqualTo(4.0);
  }

  @Test
  void a429sRetryAfterIsHonoured() throws Exception {
    use("a");
    start(r -> received.size() == 1 ? new Answer(429, "slow down", "1") : Answer.ok(r), null);
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(reporter.acknowledged()).isPositive());
    long gap = received.get(1).nanos() - received.get(0).nanos();
    // the reporting interval is 50 ms; the operator asked for a second
    assertThat(Duration.ofNanos(gap)).isGreaterThanOrEqualTo(Duration.ofMillis(950));
    assertThat(metric("tollgate_reports_refused_total{status=\"429\"}")).isEqualTo(1.0);
  }
}
