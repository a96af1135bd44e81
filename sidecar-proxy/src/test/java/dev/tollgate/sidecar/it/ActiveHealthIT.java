package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.Fault;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Active health probes: a credential whose probes fail is skipped before any user request hits it.
 */
class ActiveHealthIT {
  private static final String UP = "tollgate_credential_up{credential=\"a\"}";
  private static ProviderSimulator simA;
  private static ProviderSimulator simB;
  private static Path dir;
  private static Sidecar sidecar;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    simA = ProviderSimulator.start();
    simB = ProviderSimulator.start();
    dir = Files.createTempDirectory("tollgate-health-it");
    Files.writeString(dir.resolve("k"), "sk-test");
    Path config = dir.resolve("config.yaml");
    Files.writeString(
        config,
        """
        namespace: it
        routes:
          - model: probed
            tiers:
              - name: main
                targets: [{credential: a, model: gpt-4o-mini}]
                fallbacks: [{credential: b, model: claude-3-5-haiku-20241022}]
        credentials:
          - name: a
            provider: openai
            endpoint: "%s/v1"
            apiKeyFile: "%s/k"
            healthCheck: {enabled: true, interval: 1s, model: gpt-4o-mini, failureThreshold: 1}
          - {name: b, provider: anthropic, endpoint: "%s", apiKeyFile: "%s/k"}
        """
            .formatted(simA.baseUrl(), dir, simB.baseUrl(), dir));
    sidecar = Sidecar.start(config, 0, 2, Duration.ofMillis(200));
  }

  @AfterAll
  static void stop() throws Exception {
    sidecar.shutdown(Duration.ZERO);
    simA.close();
    simB.close();
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static String provider() throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(sidecar.baseUrl() + "/v1/chat/completions"))
                .header("content-type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"probed\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-tollgate-failovers")).contains("0");
    return r.headers().firstValue("x-tollgate-provider").orElseThrow();
  }

  private static double up() throws Exception {
    String text =
        HTTP.send(
                HttpRequest.newBuilder(URI.create(sidecar.baseUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return text.lines()
        .filter(l -> l.startsWith(UP + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(UP.length() + 1).trim()))
        .findFirst()
        .orElse(-1);
  }

  @Test
  void failingProbesTakeACredentialOutOfRoutingAndPassingOnesBringItBack() throws Exception {
    await().atMost(Duration.ofSeconds(10)).until(() -> up() == 1);
    assertThat(provider()).isEqualTo("openai");

    simA.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
    await().atMost(Duration.ofSeconds(10)).until(() -> up() == 0);
    long before = simA.stats().requests();
    assertThat(provider()).as("skipped without a failed attempt").isEqualTo("anthropic");
    // probes may still arrive meanwhile, but the user's request did not
    assertThat(simA.stats().requests() - before).isLessThanOrEqualTo(1);
    assertThat(sidecar.ledger().snapshot().keySet())
        .anyMatch(k -> k.route().equals("_health") && "health-check".equals(k.tier()));

    simA.behavior(SimulatorBehavior.defaults());
    await().atMost(Duration.ofSeconds(10)).until(() -> up() == 1);
    assertThat(provider()).isEqualTo("openai");
  }
}
