package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-caller quotas in one sidecar without an operator: every call made for a caller's request
 * counts against the caller (classifier and escalation calls, streams, both endpoints), and the
 * sidecar refuses a caller on its own count once the quota is spent.
 */
class CallerQuotaSidecarIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static ProviderSimulator sim;
  private final HttpClient http = HttpClient.newHttpClient();
  @TempDir Path dir;
  private Sidecar sidecar;

  @BeforeAll
  static void startSimulator() throws Exception {
    sim = ProviderSimulator.start();
  }

  @AfterAll
  static void stopSimulator() {
    sim.close();
  }

  @BeforeEach
  void start() throws Exception {
    sim.reset();
    // the simulator answers "t0 t1 ...": the classifier labels t0, the escalation marker is t0
    sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 500, 0, 0));
    Files.writeString(dir.resolve("a.key"), "sk-a");
    Path config = dir.resolve("config.yaml");
    Files.writeString(
        config,
        """
        namespace: it
        routes:
          - model: plain
            budget: b
            tiers:
              - name: main
                targets: [{credential: a, model: gpt-4o}]
          - model: classified
            budget: b
            classifier:
              target: {credential: a, model: gpt-4o}
              labels: [t0, hard]
              defaultTier: easy
            tiers:
              - name: strong
                when: {classifierLabels: [t0]}
                targets: [{credential: a, model: gpt-4o}]
              - name: easy
                targets: [{credential: a, model: gpt-4o-mini}]
          - model: escalating
            budget: b
            escalation: {fromTier: cheap, toTier: strong, lowConfidenceMarker: "t0"}
            tiers:
              - name: cheap
                when: {maxInputTokens: 1000}
                targets: [{credential: a, model: gpt-4o-mini}]
              - name: strong
                targets: [{credential: a, model: gpt-4o}]
        credentials:
          - {name: a, provider: openai, endpoint: "%s/v1", apiKeyFile: "%s/a.key"}
        budgets:
          - name: b
            limit: "1000"
            onExceeded: AlertOnly
            perCaller: {header: x-user, limit: "0.06"}
        """
            .formatted(sim.baseUrl(), dir));
    sidecar = Sidecar.start(config, 0, 1, Duration.ofMillis(200));
  }

  @AfterEach
  void stop() {
    sidecar.shutdown(Duration.ZERO);
  }

  @Test
  void everyCallMadeForARequestCountsAgainstItsCaller() throws Exception {
    assertThat(chat("classified", "u1", false).statusCode()).isEqualTo(200); // classifier + strong
    assertThat(chat("escalating", "u1", false).statusCode()).isEqualTo(200); // cheap + strong
    assertThat(chat("plain", "u1", true).statusCode()).isEqualTo(200);
    assertThat(messages("plain", "u1").statusCode()).isEqualTo(200);
    assertThat(sim.stats().requests()).isEqualTo(6);

    List<UsageReport.CallerSpend> spend = sidecar.context().budgetGate().callers().drain();
    BigDecimal metered =
        sidecar.ledger().snapshot().values().stream()
            .map(UsageLedger.Totals::costUsd)
            .reduce(BigDecimal.ZERO, BigDecimal::add);
    assertThat(spend)
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.budget()).isEqualTo("b");
              assertThat(s.caller()).isEqualTo("u1");
              assertThat(s.requests()).isEqualTo(6);
              assertThat(new BigDecimal(s.costUsd())).isEqualByComparingTo(metered);
            });
    assertThat(metered).isPositive();
  }

  @Test
  void aCallerIsRefusedOnTheSidecarsOwnCountOnceItsQuotaIsSpent() throws Exception {
    // gpt-4o, 1000 input and 500 output tokens at $2.50/$10 per M: 0.0075 a call; the quota is
    // eight calls
    int served = 0;
    HttpResponse<String> last;
    while ((last = chat("plain", "u2", false)).statusCode() == 200) {
      served++;
      assertThat(served).isLessThan(20);
    }
    assertThat(served).isEqualTo(8);
    assertThat(last.statusCode()).isEqualTo(429);
    JsonNode error = JSON.readTree(last.body()).path("error");
    assertThat(error.path("type").asText()).isEqualTo("insufficient_quota");
    assertThat(error.path("code").asText()).isEqualTo("budget_exceeded");
    assertThat(error.path("message").asText()).contains("caller u2", "quota of 0.06 USD");
    HttpResponse<String> anthropic = messages("plain", "u2");
    assertThat(anthropic.statusCode()).isEqualTo(429);
    assertThat(JSON.readTree(anthropic.body()).path("error").path("type").asText())
        .isEqualTo("rate_limit_error");
    assertThat(chat("plain", "u2", true).statusCode()).isEqualTo(429);
    // another caller, and a call naming no caller, are served
    assertThat(chat("plain", "u3", false).statusCode()).isEqualTo(200);
    assertThat(chat("plain", null, false).statusCode()).isEqualTo(200);
    assertThat(sim.stats().requests()).isEqualTo(10);
  }

  private HttpResponse<String> chat(String model, String user, boolean stream) throws Exception {
    return send(
        "/v1/chat/completions",
        user,
        "{\"model\":\""
            + model
            + "\","
            + (stream ? "\"stream\":true," : "")
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  }

  private HttpResponse<String> messages(String model, String user) throws Exception {
    return send(
        "/v1/messages",
        user,
        "{\"model\":\""
            + model
            + "\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  }

  private HttpResponse<String> send(String path, String user, String body) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(sidecar.baseUrl() + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (user != null) {
      r.header("x-user", user);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }
}
