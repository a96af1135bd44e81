package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.Sidecar;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster's price file, rendered into the sidecar configuration by the operator, prices calls
 * over the built-in catalogue: a model the release does not know, and a changed list price.
 */
class ClusterPricesIT {
  private final HttpClient http = HttpClient.newHttpClient();
  @TempDir Path dir;
  private ProviderSimulator sim;
  private Sidecar sidecar;

  @AfterEach
  void stop() {
    if (sidecar != null) {
      sidecar.shutdown(Duration.ZERO);
    }
    if (sim != null) {
      sim.close();
    }
  }

  @Test
  void callsArePricedWithTheClustersPrices() throws Exception {
    sim = ProviderSimulator.start();
    sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 500, 0, 0));
    Files.writeString(dir.resolve("a.key"), "sk-a");
    Path config = dir.resolve("config.yaml");
    Files.writeString(
        config,
        """
        namespace: it
        routes:
          - model: acme
            tiers: [{name: main, targets: [{credential: a, model: acme-llm-2027-01-15}]}]
          - model: plain
            tiers: [{name: main, targets: [{credential: a, model: gpt-4o}]}]
        credentials:
          - {name: a, provider: openai, endpoint: "%s/v1", apiKeyFile: "%s/a.key"}
        prices:
          date: "2027-02-01"
          providers:
            - provider: openai
              source: https://example.com/contract
              checked: "2027-02-01"
              models:
                - {model: acme-llm, input: "1.50", output: "6"}
                - {model: gpt-4o, input: "2", output: "8"}
        """
            .formatted(sim.baseUrl(), dir));
    sidecar = Sidecar.start(config, 0, 1, Duration.ofMillis(200));

    assertThat(chat("acme").statusCode()).isEqualTo(200);
    assertThat(chat("plain").statusCode()).isEqualTo(200);

    // acme-llm: 1,000 × 1.50 + 500 × 6 = 4,500 $/M; gpt-4o at the cluster's 2/8: 6,000 $/M
    assertThat(cost("acme")).isEqualByComparingTo("0.0045");
    assertThat(cost("plain")).isEqualByComparingTo("0.006");
  }

  private BigDecimal cost(String route) {
    return sidecar.ledger().snapshot().entrySet().stream()
        .filter(e -> e.getKey().route().equals(route))
        .map(e -> e.getValue().costUsd())
        .reduce(BigDecimal.ZERO, BigDecimal::add);
  }

  private HttpResponse<String> chat(String model) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(sidecar.baseUrl() + "/v1/chat/completions"))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"model\":\""
                        + model
                        + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
