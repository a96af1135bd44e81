package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.tollgate.simulator.ProviderSimulator;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * Nothing unreported is lost: with the operator away, every metered call reaches the spool within a
 * report interval; after {@code kill -9} the next process of the pod delivers every call to the
 * operator once it is back, exactly once.
 */
class SpoolKillIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void everyCallSurvivesKillNineWithTheOperatorAway() throws Exception {
    Path dir = Files.createTempDirectory("tollgate-spool-it");
    Path spool = Files.createDirectories(dir.resolve("spool"));
    KeyStore tls = selfSigned(dir);
    int operatorPort;
    try (ServerSocket s = new ServerSocket(0)) {
      operatorPort = s.getLocalPort(); // nothing listens there yet: the operator is away
    }
    try (ProviderSimulator sim = ProviderSimulator.start()) {
      Files.writeString(dir.resolve("openai.key"), "sk-openai-test");
      Files.writeString(dir.resolve("token"), "pod-token");
      Path config = dir.resolve("config.yaml");
      Files.writeString(
          config,
          """
          namespace: it
          routes:
            - model: oa
              tiers: [{name: main, targets: [{credential: openai, model: gpt-4o-mini}]}]
          credentials:
            - {name: openai, provider: openai, endpoint: "%s/v1", apiKeyFile: "%s/openai.key"}
          """
              .formatted(sim.baseUrl(), dir));
      Map<String, String> env =
          Map.of(
              "TOLLGATE_REPORT_URL",
              "https://127.0.0.1:" + operatorPort + "/v1/report",
              "TOLLGATE_REPORT_CA_FILE",
              dir.resolve("ca.pem").toString(),
              "TOLLGATE_TOKEN_FILE",
              dir.resolve("token").toString(),
              "TOLLGATE_POD_NAMESPACE",
              "it",
              "TOLLGATE_POD_NAME",
              "app-0",
              "TOLLGATE_POD_UID",
              "uid-0",
              "TOLLGATE_REPORT_INTERVAL",
              "0.2s",
              "TOLLGATE_SPOOL_DIR",
              spool.toString());

      ChildSidecar first = ChildSidecar.start(config, env);
      int calls = 25;
      for (int i = 0; i < calls; i++) {
        HttpResponse<String> r =
            HTTP.send(
                HttpRequest.newBuilder(URI.create(first.baseUrl() + "/v1/chat/completions"))
                    .header("content-type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
      }
      // within a report interval (and one failed report attempt) every call is on disk
      await().atMost(Duration.ofSeconds(20)).until(() -> spooledRequests(spool) == calls);
      first.kill();

      FakeOperator operator = FakeOperator.start(operatorPort, tls);
      try (ChildSidecar second = ChildSidecar.start(config, env)) {
        await().atMost(Duration.ofSeconds(30)).until(() -> operator.requests.get() == calls);
        // every report the restarted sidecar builds from here on is its own and empty
        Thread.sleep(1000);
        assertThat(operator.requests.get()).isEqualTo(calls);
      } finally {
        operator.stop();
      }
    }
  }

  /** Requests counted in the spool's reports. */
  private static long spooledRequests(Path spool) throws Exception {
    long n = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(spool, "report-*.json")) {
      for (Path f : files) {
        try {
          for (JsonNode line : JSON.readTree(f.toFile()).path("lines")) {
            n += line.path("requests").asLong();
          }
        } catch (java.io.IOException movedAway) {
          // replaced while read
        }
      }
    }
    return n;
  }

  /** The operator's report endpoint as far as exactly-once goes: a sequence is applied once. */
  private static final class FakeOperator {
    final AtomicLong requests = new AtomicLong();
    final Map<String, Long> applied = new ConcurrentHashMap<>();
    private final HttpsServer server;

    private FakeOperator(HttpsServer server) {
      this.server = server;
    }

    static FakeOperator start(int port, KeyStore tls) throws Exception {
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(tls, "changeit".toCharArray());
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(kmf.getKeyManagers(), null, null);
      HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", port), 16);
      server.setHttpsConfigurator(new HttpsConfigurator(ssl));
      FakeOperator op = new FakeOperator(server);
      server.createContext(
          "/",
          exchange -> {
            JsonNode report = JSON.readTree(exchange.getRequestBody());
            String reporter = report.path("podUid").asText() + "/" + report.path("bootId").asText();
            long seq = report.path("sequence").asLong();
            synchronized (op) {
              long last = op.applied.getOrDefault(reporter, 0L);
              if (seq > last) {
                op.applied.put(reporter, seq);
                for (JsonNode line : report.path("lines")) {
                  op.requests.addAndGet(line.path("requests").asLong());
                }
              }
            }
            byte[] reply =
                ("{\"acknowledgedSequence\":" + seq + ",\"budgets\":[]}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.sendResponseHeaders(200, reply.length);
            exchange.getResponseBody().write(reply);
            exchange.close();
          });
      server.start();
      return op;
    }

    void stop() {
      server.stop(0);
    }
  }

  private static KeyStore selfSigned(Path dir) throws Exception {
    Path store = dir.resolve("operator.p12");
    keytool(
        "-genkeypair",
        "-alias",
        "operator",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=operator",
        "-ext",
        "SAN=ip:127.0.0.1,dns:localhost",
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
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "operator",
        "-keystore",
        store.toString(),
        "-storepass",
        "changeit",
        "-file",
        dir.resolve("ca.pem").toString());
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    return ks;
  }

  private static void keytool(String... args) throws Exception {
    String[] cmd = new String[args.length + 1];
    cmd[0] = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    System.arraycopy(args, 0, cmd, 1, args.length);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("keytool failed: " + out);
    }
  }
}
