package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ProviderCredential's account limit holds across several sidecars: the operator (two replicas
 * serving reports, on the mock API server) divides it among the live sidecars, which enforce their
 * shares against the provider simulator. Each test uses its own namespace.
 *
 * <p>How the limit is checked without timing: each sidecar's share is a token bucket holding one
 * minute's worth of its share and refilling continuously, so the most a single bucket of the whole
 * limit could admit while the load runs is {@code limit + limit * elapsed / 1 min}, measured with
 * an elapsed time that is never shorter than the load's (a slow run only loosens the bound). The
 * simulator's request count must stay within 5% of that, and must reach the limit (every share was
 * usable). Without division each sidecar would admit the whole limit: three times as many.
 */
@EnableKubernetesMockClient(crud = true)
class SharedLimitsIT {
  private static final int LIMIT = 60; // requests per minute for the account

  static KubernetesClient client;
  static ReportingCluster cluster;
  static ProviderSimulator sim;

  @TempDir Path dir;
  @RegisterExtension final ClosedAfterTest toClose = new ClosedAfterTest();
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "shared-limits-it");
    sim = cluster.sim;
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void threeSidecarsOnTwoReplicasTogetherStayWithinTheAccountLimit() throws Exception {
    String ns = "shared";
    setUp(ns);
    ReportChannel first = channel(Duration.ofSeconds(30));
    ReportChannel second = channel(Duration.ofSeconds(30));
    // reports of one namespace go to different replicas; the roster is the shared ledger
    Sidecar a = sidecar(ns, "pod-a", first);
    Sidecar b = sidecar(ns, "pod-b", second);
    Sidecar c = sidecar(ns, "pod-c", first);
    awaitShares(ns, Map.of("pod-a", 20L, "pod-b", 20L, "pod-c", 20L));
    List<Sidecar> all = List.of(a, b, c);
    settle(all);

    Load load = drive(all, 60);
    assertThat(load.served()).isEqualTo(sim.stats().requests());
    assertThat(load.served() + load.limited()).isEqualTo(180);
    assertThat(sim.stats().requests())
        .as("requests the provider saw in %.1f s", load.seconds())
        .isGreaterThanOrEqualTo(LIMIT)
        .isLessThanOrEqualTo((long) Math.floor(load.singleBucketBound() * 1.05));
  }

  @Test
  void aSidecarThatStopsReportingReleasesItsShareAndANewOneGetsOne() throws Exception {
    String ns = "release";
    setUp(ns);
    ReportChannel channel = channel(Duration.ofSeconds(5));
    Sidecar a = sidecar(ns, "pod-a", channel);
    Sidecar b = sidecar(ns, "pod-b", channel);
    Sidecar c = sidecar(ns, "pod-c", channel);
    awaitShares(ns, Map.of("pod-a", 20L, "pod-b", 20L, "pod-c", 20L));

    // pod-c can no longer report (as if it crashed or was cut off): its reports are refused
    Files.writeString(dir.resolve("pod-c.token"), "revoked");
    // five seconds after its last report pod-c no longer counts: a and b split the account
    awaitShares(ns, Map.of("pod-a", 30L, "pod-b", 30L));
    settle(List.of(a, b));
    Load load = drive(List.of(a, b), 60);
    assertThat(sim.stats().requests())
        .as("requests the provider saw in %.1f s", load.seconds())
        // more than the 40 a and b held before: pod-c's share came to them
        .isGreaterThanOrEqualTo(LIMIT)
        .isLessThanOrEqualTo((long) Math.floor(load.singleBucketBound() * 1.05));

    Files.writeString(dir.resolve("pod-c.token"), FakeTokenReviewer.token(ns, "pod-c"));
    c.close();
    toClose.remove(c);

    // a pod that starts gets its part as the others give theirs back
    Sidecar d = sidecar(ns, "pod-d", channel);
    awaitShares(ns, Map.of("pod-a", 20L, "pod-b", 20L, "pod-d", 20L));

    // a pod that stops cleanly says so in its final report: its share is free at once, without
    // waiting for the liveness TTL
    d.close();
    toClose.remove(d);
    settle(List.of(a, b));
    settle(List.of(a, b));
    assertThat(liveShares(ns)).isEqualTo(Map.of("pod-a", 30L, "pod-b", 30L));
  }

  // ---- helpers ----

  private record Load(long served, long limited, double seconds) {
    /** What one bucket of the whole limit could have admitted while the load ran. */
    double singleBucketBound() {
      return LIMIT + LIMIT * seconds / 60.0;
    }
  }

  /** Sends {@code perSidecar} calls to each sidecar, three at a time per sidecar. */
  private Load drive(List<Sidecar> sidecars, int perSidecar) throws Exception {
    sim.reset();
    ExecutorService pool = Executors.newFixedThreadPool(3 * sidecars.size());
    long start = System.nanoTime();
    try {
      List<Future<Integer>> calls = new ArrayList<>();
      for (int i = 0; i < perSidecar; i++) {
        for (Sidecar s : sidecars) {
          calls.add(pool.submit(() -> chat(s)));
        }
      }
      long served = 0;
      long limited = 0;
      for (Future<Integer> f : calls) {
        int status = f.get();
        if (status == 200) {
          served++;
        } else {
          assertThat(status).isEqualTo(429);
          limited++;
        }
      }
      return new Load(served, limited, (System.nanoTime() - start) / 1e9);
    } finally {
      pool.shutdownNow();
    }
  }

  /** One round trip of every sidecar, so each has applied the shares the ledger shows. */
  private static void settle(List<Sidecar> sidecars) {
    for (Sidecar s : sidecars) {
      assertThat(s.reporter().flush(Duration.ofSeconds(10))).isTrue();
    }
  }

  private void awaitShares(String ns, Map<String, Long> expected) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(liveShares(ns)).isEqualTo(expected));
  }

  /** Pod → requests per minute it holds, of the reporters live now. */
  private static Map<String, Long> liveShares(String ns) {
    Map<String, Long> out = new TreeMap<>();
    SpendLedger ledger = ConfigMapLedgerStore.read(client, ns);
    java.time.Instant now = java.time.Instant.now();
    ledger.reporters.forEach(
        (key, r) -> {
          SpendLedger.RateShare s = r.rateShares.get("openai");
          // reported within the last 2 s (the test that watches releases has a TTL of 5 s)
          if (s != null && java.time.Instant.parse(r.lastSeen).plusSeconds(2).isAfter(now)) {
            out.put(r.namespaceAndPod.substring(ns.length() + 1), s.requestsPerMinute);
          }
        });
    return out;
  }

  private void setUp(String ns) throws Exception {
    sim.reset();
    sim.behavior(SimulatorBehavior.defaults().withUsage(10, 5, 0, 0));
    ProviderCredential credential = cluster.simulatedCredential(ns);
    ProviderCredentialSpec.AccountLimits limits = new ProviderCredentialSpec.AccountLimits();
    limits.setRequestsPerMinute(LIMIT);
    credential.getSpec().setLimits(limits);
    MockApi.apply(client, credential);
    LLMRoute route = Fixtures.route(ns, "chat", "chat", Fixtures.tier("main", "openai", "gpt-4o"));
    MockApi.apply(client, route);
    cluster.mountConfig(ns, "gpt-4o", dir);
  }

  private ReportChannel channel(Duration liveness) throws Exception {
    ReportChannel channel = cluster.channel(0, liveness);
    toClose.add(channel);
    return channel;
  }

  private Sidecar sidecar(String ns, String pod, ReportChannel channel) throws Exception {
    Sidecar s =
        ReportingCluster.sidecar(
            dir,
            cluster.reporting(
                dir, ns, pod, "uid-" + pod + "-" + UUID.randomUUID(), channel.port()));
    toClose.add(s);
    return s;
  }

  private int chat(Sidecar s) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create(s.baseUrl() + "/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }
}
