package dev.tollgate.operator.bench;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.math.BigDecimal;
import java.math.RoundingMode;
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
import java.util.concurrent.atomic.AtomicLong;

/**
 * Budget benchmark: three sidecars (or the fifth argument's count), each driven by several callers
 * at full speed, against a Block budget whose limit a few seconds of traffic exhaust. Measures the
 * overshoot (spend beyond the limit, from the operator's ledger after every sidecar delivered its
 * last report) and how long after the ledger reached the limit every sidecar was refusing calls.
 * Run by {@code bench/budget.sh}; numbers are reported, never asserted.
 */
public final class BudgetBench {
  // gpt-4o at 5 / 15 USD per million tokens, 1000 input and 500 output tokens: 0.0125 USD a call
  private static final BigDecimal PER_CALL = new BigDecimal("0.0125");

  private BudgetBench() {}

  /** One sidecar's traffic: calls served, and when it first and last answered what. */
  private static final class Stats {
    final AtomicLong served = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong firstRefusal = new AtomicLong(-1);
    final AtomicLong lastServed = new AtomicLong(-1);
  }

  public static void main(String[] args) throws Exception {
    BigDecimal limit = new BigDecimal(args.length > 0 ? args[0] : "20.00");
    int callers = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    Duration interval = Duration.parse("PT" + (args.length > 2 ? args[2] : "2s"));
    Path out = Path.of(args.length > 3 ? args[3] : "bench/out/budget-table.md");
    int sidecarCount = args.length > 4 ? Integer.parseInt(args[4]) : 3;
    BenchCluster cluster = BenchCluster.start();
    KubernetesClient client = cluster.client;
    String ns = BenchCluster.NAMESPACE;
    ProviderSimulator sim = ProviderSimulator.start();
    sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 500, 0, 0));

    MockApi.apply(client, Fixtures.secret(ns, "openai-key", "api-key"));
    ProviderCredential credential =
        Fixtures.credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key");
    credential.getSpec().setEndpoint(sim.baseUrl() + "/v1");
    MockApi.apply(client, credential);
    Budget budget = Fixtures.budget(ns, "monthly", limit.toPlainString());
    budget.getSpec().setOnExceeded(BudgetSpec.ExceededAction.BLOCK);
    MockApi.apply(client, budget);
    LLMRoute route =
        Fixtures.withBudget(
            Fixtures.route(ns, "chat", "chat", Fixtures.tier("main", "openai", "gpt-4o")),
            "monthly");
    MockApi.apply(client, route);

    List<Sidecar> sidecars = cluster.startSidecars(sidecarCount, "monthly", interval);
    for (Sidecar s : sidecars) {
      while (s.reporter().acknowledged() < 1) {
        Thread.sleep(20);
      }
    }

    // traffic until every sidecar has refused for 2 s, or 120 s at most
    long start = System.nanoTime();
    AtomicBoolean stop = new AtomicBoolean();
    List<Stats> stats = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    for (Sidecar s : sidecars) {
      Stats st = new Stats();
      stats.add(st);
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
                      long now = System.nanoTime() - start;
                      if (code == 200) {
                        st.served.incrementAndGet();
                        st.lastServed.accumulateAndGet(now, Math::max);
                      } else if (code == 429) {
                        st.refused.incrementAndGet();
                        st.firstRefusal.compareAndSet(-1, now);
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
    long ledgerAtLimit = -1;
    long deadline = start + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      if (ledgerAtLimit < 0 && spent(client, ns).compareTo(limit) >= 0) {
        ledgerAtLimit = System.nanoTime() - start;
      }
      long now = System.nanoTime() - start;
      boolean allRefusing =
          stats.stream()
              .allMatch(
                  st ->
                      st.firstRefusal.get() >= 0
                          && now - Math.max(st.lastServed.get(), st.firstRefusal.get())
                              > Duration.ofSeconds(2).toNanos());
      if (allRefusing) {
        break;
      }
      Thread.sleep(20);
    }
    stop.set(true);
    for (Thread t : threads) {
      t.join();
    }
    for (Sidecar s : sidecars) {
      s.reporter().flush(Duration.ofSeconds(10));
    }
    BigDecimal spent = spent(client, ns);
    long served = stats.stream().mapToLong(s -> s.served.get()).sum();
    long refused = stats.stream().mapToLong(s -> s.refused.get()).sum();
    BigDecimal overshoot = spent.subtract(limit);

    StringBuilder md = new StringBuilder();
    md.append(
        "| limit | callers | report interval | calls served | calls refused (429) | spent (ledger) | overshoot | overshoot % of limit | served × price |\n");
    md.append("|---|---|---|---|---|---|---|---|---|\n");
    md.append(
        String.format(
            "| $%s | %d sidecars × %d | %s | %d | %d | $%s | $%s | %s %% | $%s |%n",
            limit.toPlainString(),
            sidecarCount,
            callers,
            interval,
            served,
            refused,
            spent.stripTrailingZeros().toPlainString(),
            overshoot.stripTrailingZeros().toPlainString(),
            overshoot.multiply(BigDecimal.valueOf(100)).divide(limit, 3, RoundingMode.HALF_UP),
            PER_CALL.multiply(BigDecimal.valueOf(served)).stripTrailingZeros().toPlainString()));
    md.append(
        "\n| sidecar | served | first 429 after start | last 200 after start |\n|---|---|---|---|\n");
    for (int i = 0; i < stats.size(); i++) {
      Stats st = stats.get(i);
      md.append(
          String.format(
              "| bench-%d | %d | %s | %s |%n",
              i, st.served.get(), ms(st.firstRefusal.get()), ms(st.lastServed.get())));
    }
    long lastServed = stats.stream().mapToLong(s -> s.lastServed.get()).max().orElse(-1);
    md.append("\n- ledger reached the limit: ")
        .append(
            ledgerAtLimit < 0
                ? "never (the sidecars stopped on their allowances first)"
                : ms(ledgerAtLimit) + " after start")
        .append("\n- last call served by any sidecar: ")
        .append(ms(lastServed))
        .append(" after start")
        .append(
            ledgerAtLimit < 0
                ? ""
                : lastServed <= ledgerAtLimit
                    ? " (before the operator saw the limit: no sidecar needed the Exceeded state)"
                    : "; propagation (last call served after the ledger reached the limit): "
                        + ms(lastServed - ledgerAtLimit))
        .append("\n- simulator: ")
        .append(sim.stats().answered())
        .append(" calls answered\n");
    Files.createDirectories(out.getParent());
    Files.writeString(out, md.toString());
    System.out.print(md);

    cluster.close();
    sim.close();
    System.exit(0);
  }

  private static BigDecimal spent(KubernetesClient client, String ns) {
    ConfigMap cm = ConfigMapLedgerStore.resource(client, ns).get();
    if (cm == null) {
      return BigDecimal.ZERO;
    }
    SpendLedger.BudgetSpend b = ConfigMapLedgerStore.parse(cm).budgets.get("monthly");
    return b == null ? BigDecimal.ZERO : b.spentUsd();
  }

  private static String ms(long nanos) {
    return nanos < 0 ? "-" : (nanos / 1_000_000) + " ms";
  }
}
