package dev.tollgate.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's main command, shortened: the whole system in one process on the example. */
class LocalModeIT {

  @Test
  void runsTheCustomerSupportExampleEndToEnd() throws InterruptedException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);

    // The console as a user sees it: the report and whatever the components log, in one stream.
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    int exit;
    System.setOut(out);
    System.setErr(out);
    try {
      exit =
          LocalMode.run(
              new String[] {
                "--examples-dir",
                "../examples",
                "--requests",
                "40",
                "--sidecars",
                "2",
                "--concurrency",
                "4"
              },
              out);
      // a reconcile still running after the run would log here, after the summary
      awaitReconcilersGone();
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }

    String report = buffer.toString(StandardCharsets.UTF_8);
    assertThat(exit).as(report).isZero();
    // It ends with the summary: no warning or stack trace from a component shutting down late.
    assertThat(report.lines())
        .as(report)
        .noneMatch(line -> line.contains("Exception") || line.startsWith("\tat "));
    List<String> lines = report.lines().filter(line -> !line.isBlank()).toList();
    assertThat(lines.get(lines.size() - 1))
        .as(report)
        .startsWith("  route support-chat (status): response cache hits");
    assertThat(report)
        .contains("[6/6] traffic: 40 requests for model \"support-chat\"")
        .contains("$ kubectl -n support get providercredentials,llmroutes,budgets")
        .containsPattern("support-chat\\s+\\S+\\s+support-chat\\s+True\\s+chat\\s+0\\.0\\d")
        .contains("llmroute/support-chat  Accepted=True")
        .contains("requests 40, succeeded")
        .containsPattern("metering check: .*: match")
        // health and spend written back from the sidecars' reports: the primary's outage shows
        // (its failed attempts are reported although the calls failed over), and the lowered
        // limit is crossed
        .containsPattern("groq\\s+\\S+\\s+groq\\s+True\\s+(Degraded|Unavailable)")
        // 0.002 USD a request that reaches a provider: 40 less the FAQs the response cache
        // replays (16 asked, 4 questions x 2 sidecars reach the provider)
        .contains("local mode lowers Budget support-monthly's limit from 2500.00 to 0.0640 USD")
        .containsPattern(
            "response cache: ([1-9]\\d*) answers replayed \\(callers saw \\1 with x-tollgate-cache:"
                + " hit\\), \\$0\\.\\d+ not spent")
        .containsPattern("route support-chat \\(status\\): response cache hits [1-9]")
        .containsPattern(
            "support-monthly\\s+\\S+\\s+0\\.0640\\s+Monthly\\s+\\d+\\.\\d+\\s+(Warning|Exceeded)\\s+0\\.0\\d")
        .containsPattern(
            "Warning\\s+ThresholdReached\\s+budget/support-monthly\\s+Budget support-monthly reached 50%")
        .containsPattern(
            "write-back check: operator's ledger \\$\\S+, sidecars' ledgers \\$\\S+: match")
        .containsPattern(
            "response cache check: operator's ledger [1-9]\\d* hits saving \\$0\\.\\d+,"
                + " sidecars' ledgers [1-9]\\d* hits saving \\$0\\.\\d+: match");
    // The primary fails for a fifth of the run; the sidecars fail over, so every request succeeds.
    assertThat(report)
        .contains("requests 40, succeeded 40 (100.0%)")
        .containsPattern("failovers [1-9]\\d*,");
  }

  /** Waits until JOSDK's reconciler threads ended (they outlive a run that did not drain them). */
  private static void awaitReconcilersGone() throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(15);
    while (Instant.now().isBefore(deadline)
        && Thread.getAllStackTraces().keySet().stream()
            .anyMatch(t -> t.isAlive() && t.getName().startsWith("ReconcilerExecutor-"))) {
      Thread.sleep(100);
    }
  }

  @Test
  void anExampleWithTheSameCredentialNameInSeveralNamespacesMetersAgainstItsOwnSimulator() {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    int exit =
        LocalMode.run(
            new String[] {
              "--examples-dir", "../examples",
              "--example", "namespace-budgets",
              "--requests", "20",
              "--concurrency", "4"
            },
            new PrintStream(buffer, true, StandardCharsets.UTF_8));

    String report = buffer.toString(StandardCharsets.UTF_8);
    assertThat(exit).as(report).isZero();
    // three credentials named openai (team-a, team-b, team-c): one simulator each, and the
    // traffic of team-a's sidecars is compared with team-a's simulator only
    assertThat(report)
        .contains("team-a/openai (openai)")
        .contains("team-c/openai (openai)")
        .contains("primary team-a/openai fails")
        .containsPattern("metering check: .*: match");
  }

  @Test
  void withOtlpTheSidecarsExportTheirSpansToTheCollector() throws Exception {
    java.util.List<byte[]> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer collector =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    collector.createContext(
        "/v1/traces",
        ex -> {
          received.add(ex.getRequestBody().readAllBytes());
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    collector.start();
    try {
      ByteArrayOutputStream buffer = new ByteArrayOutputStream();
      String url = "http://127.0.0.1:" + collector.getAddress().getPort();
      int exit =
          LocalMode.run(
              new String[] {
                "--examples-dir", "../examples",
                "--example", "namespace-budgets",
                "--requests", "10",
                "--concurrency", "2",
                "--otlp", url
              },
              new PrintStream(buffer, true, StandardCharsets.UTF_8));
      String report = buffer.toString(StandardCharsets.UTF_8);
      assertThat(exit).as(report).isZero();
      assertThat(report).contains("traces: OpenTelemetry traces to " + url + "/v1/traces");
      assertThat(received).as("spans exported by the time the run ends").isNotEmpty();
      String payloads =
          received.stream()
              .map(b -> new String(b, StandardCharsets.ISO_8859_1))
              .collect(java.util.stream.Collectors.joining());
      assertThat(payloads)
          .contains("gen_ai.request.model")
          .contains("tollgate.cost_usd")
          .contains("local-sidecar-0");
    } finally {
      collector.stop(0);
    }
  }

  @Test
  void anUnknownExampleIsAClearError() {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();

    int exit =
        LocalMode.run(
            new String[] {"--examples-dir", "../examples", "--example", "no-such-example"},
            new PrintStream(buffer, true, StandardCharsets.UTF_8));

    assertThat(exit).isEqualTo(1);
  }

  @Test
  void badOptionsAreAUsageError() {
    assertThat(LocalMode.run(new String[] {"--sidecars", "0"}, System.out)).isEqualTo(2);
    assertThat(LocalMode.run(new String[] {"--bogus"}, System.out)).isEqualTo(2);
  }
}
