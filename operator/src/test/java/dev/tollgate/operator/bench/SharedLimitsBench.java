package dev.tollgate.operator.bench;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Shared credential limit benchmark: three sidecars, each driven by several callers at full speed,
 * against one ProviderCredential with a requests-per-minute limit far below what the callers ask
 * for. Counts the calls the provider simulator served per second and reports, for every 60-second
 * window, how many got through compared with the account's limit. Run by {@code
 * bench/shared-limits.sh}; numbers are reported, never asserted.
 */
public final class SharedLimitsBench {
  private SharedLimitsBench() {}

  public static void main(String[] args) throws Exception {
    int limit = args.length > 0 ? Integer.parseInt(args[0]) : 600;
    int callers = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 150;
    Path out = Path.of(args.length > 3 ? args[3] : "bench/out/shared-limits-table.md");
    BenchCluster cluster = BenchCluster.start();
    KubernetesClient client = cluster.client;
    String ns = BenchCluster.NAMESPACE;
    ProviderSimulator sim = ProviderSimulator.start();
    sim.behavior(SimulatorBehavior.defaults().withUsage(100, 20, 0, 0));

    MockApi.apply(client, Fixtures.secret(ns, "openai-key", "api-key"));
    ProviderCredential credential =
        Fixtures.credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key");
    credential.getSpec().setEndpoint(sim.baseUrl() + "/v1");
    ProviderCredentialSpec.AccountLimits limits = new ProviderCredentialSpec.AccountLimits();
    limits.setRequestsPerMinute(limit);
    credential.getSpec().setLimits(limits);
    MockApi.apply(client, credential);
    LLMRoute route = Fixtures.route(ns, "chat", "chat", Fixtures.tier("main", "openai", "gpt-4o"));
    MockApi.apply(client, route);

    List<Sidecar> sidecars = cluster.startSidecars(3, "gpt-4o", Duration.ofSeconds(2));
    // two report rounds: every sidecar holds its settled share before traffic starts
    for (int round = 0; round < 2; round++) {
      for (Sidecar s : sidecars) {
        s.reporter().flush(Duration.ofSeconds(10));
      }
    }

    AtomicLongArray servedBySidecar = new AtomicLongArray(sidecars.size());
    AtomicLongArray servedPerSecond = new AtomicLongArray(seconds + 1);
    AtomicLongArray refusedPerSecond = new AtomicLongArray(seconds + 1);
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    long start = System.nanoTime();
    for (int n = 0; n < sidecars.size(); n++) {
      Sidecar s = sidecars.get(n);
      int index = n;
      for (int c = 0; c < callers; c++) {
        Thread t =
            new Thread(
                () -> {
                  HttpRequest req =
                      HttpRequest.newBuilder(URI.create(s.baseUrl() + "/v1/chat/completions"))
                          .header("Content-Type", "application/json")
                          .POST(
                              HttpRequest.BodyPublishers.ofString(
                                  "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\","
                                      + "\"content\":\"hi\"}]}"))
                          .build();
                  while (!stop.get()) {
                    try {
                      int code =
                          http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
                      int second = (int) ((System.nanoTime() - start) / 1_000_000_000L);
                      if (second > seconds) {
                        return;
                      }
                      if (code == 200) {
                        servedPerSecond.incrementAndGet(second);
                        servedBySidecar.incrementAndGet(index);
                      } else {
                        refusedPerSecond.incrementAndGet(second);
                        Thread.sleep(5); // a refused caller retries, but not in a hot loop
                      }
                    } catch (Exception e) {
                      return;
                    }
                  }
                });
        t.start();
        threads.add(t);
      }
    }
    Thread.sleep(Duration.ofSeconds(seconds).toMillis());
    stop.set(true);
    for (Thread t : threads) {
      t.join();
    }

    long served = 0;
    long refused = 0;
    for (int i = 0; i < seconds; i++) {
      served += servedPerSecond.get(i);
      refused += refusedPerSecond.get(i);
    }
    // 60-second windows by whole seconds: the first one includes the buckets' initial burst
    long first = window(servedPerSecond, 0);
    long steadyMax = 0;
    long steadyMin = Long.MAX_VALUE;
    for (int from = 60; from + 60 <= seconds; from++) {
      long w = window(servedPerSecond, from);
      steadyMax = Math.max(steadyMax, w);
      steadyMin = Math.min(steadyMin, w);
    }
    StringBuilder md = new StringBuilder();
    md.append(
        "| limit (requests/min) | callers | run | served | refused (429) | first 60 s (incl. the burst) | any later 60 s window: max | min | max vs limit |\n");
    md.append("|---|---|---|---|---|---|---|---|---|\n");
    md.append(
        String.format(
            "| %d | 3 sidecars × %d | %d s | %d | %d | %d | %d | %d | %+.2f %% |%n",
            limit,
            callers,
            seconds,
            served,
            refused,
            first,
            steadyMax,
            steadyMin,
            (steadyMax - limit) * 100.0 / limit));
    md.append("\n- simulator: ").append(sim.stats().requests()).append(" requests received\n");
    md.append("- served per sidecar: ").append(servedBySidecar).append('\n');
    System.err.println("ledger: " + ConfigMapLedgerStore.resource(client, ns).get().getData());
    Files.createDirectories(out.getParent());
    Files.writeString(out, md.toString());
    System.out.print(md);

    cluster.close();
    sim.close();
    System.exit(0);
  }

  private static long window(AtomicLongArray perSecond, int from) {
    long sum = 0;
    for (int i = from; i < from + 60 && i < perSecond.length(); i++) {
      sum += perSecond.get(i);
    }
    return sum;
  }
}
