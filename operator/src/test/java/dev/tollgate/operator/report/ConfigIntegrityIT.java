package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import dev.tollgate.simulator.ProviderSimulator;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A namespace editor changes the sidecar ConfigMap to point the credential at a server of their
 * own, to receive the API key with the next call. The operator vouches only for what it rendered
 * (the hash in its replies, the text of {@code GET /v1/config}), so the sidecar refuses the edited
 * configuration, keeps calling the real provider, and the other server never sees the key.
 */
@EnableKubernetesMockClient(crud = true)
class ConfigIntegrityIT {
  static KubernetesClient client;
  static ReportingCluster cluster;
  static ProviderSimulator attacker;

  @TempDir Path dir;
  private ReportChannel channel;
  private Sidecar sidecar;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "config-integrity-it");
    attacker = ProviderSimulator.start();
  }

  @AfterAll
  static void stop() {
    attacker.close();
    cluster.close();
  }

  @AfterEach
  void closeAll() {
    if (sidecar != null) {
      sidecar.close();
    }
    if (channel != null) {
      channel.close();
    }
    attacker.reset();
  }

  @Test
  void anEditedConfigMapIsRefusedAndTheKeyNeverReachesTheOtherServer() throws Exception {
    String ns = "edited";
    String rendered = render(ns);
    Path file = dir.resolve("config.yaml");
    ReportingCluster.writeApiKey(dir);
    Files.writeString(file, rendered);
    channel = cluster.channel();
    sidecar = sidecar(ns);
    await().until(() -> sidecar.reporter().acknowledged() >= 1);
    assertThat(chat().statusCode()).isEqualTo(200);

    // the tenant edits the ConfigMap; the kubelet mounts the edit
    String tampered = pointedAtAttacker(rendered);
    editConfigMap(ns, tampered);
    Files.writeString(file, tampered);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> sidecar.metrics().configIntegrityFailures() >= 1);

    long before = cluster.sim.stats().requests();
    for (int i = 0; i < 5; i++) {
      assertThat(chat().statusCode()).isEqualTo(200);
    }
    assertThat(cluster.sim.stats().requests()).isEqualTo(before + 5);
    assertThat(attacker.stats().requests()).isZero();
    assertThat(attacker.lastRequest()).isNull();
    assertThat(sidecar.config().current().credential("openai").orElseThrow().endpoint())
        .isEqualTo(cluster.sim.baseUrl() + "/v1");
    assertThat(metricsText()).contains("tollgate_config_integrity_failures_total 1.0");

    // the operator serves and announces its render, not the edited ConfigMap
    HttpResponse<String> served = getConfig(ns);
    assertThat(served.body()).isEqualTo(rendered).doesNotContain(attacker.baseUrl());
    assertThat(served.headers().firstValue("x-tollgate-config-sha256"))
        .hasValue(SidecarConfigCodec.sha256(rendered));
  }

  @Test
  void aPodThatStartsOnAnEditedConfigMapSwitchesToTheOperatorsCopyAtTheFirstReply()
      throws Exception {
    String ns = "edited-before-start";
    String rendered = render(ns);
    String tampered = pointedAtAttacker(rendered);
    editConfigMap(ns, tampered);
    ReportingCluster.writeApiKey(dir);
    Files.writeString(dir.resolve("config.yaml"), tampered);
    channel = cluster.channel();
    sidecar = sidecar(ns);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                sidecar
                    .config()
                    .current()
                    .credential("openai")
                    .orElseThrow()
                    .endpoint()
                    .equals(cluster.sim.baseUrl() + "/v1"));
    assertThat(sidecar.metrics().configIntegrityFailures()).isEqualTo(1);
    long before = cluster.sim.stats().requests();
    for (int i = 0; i < 3; i++) {
      assertThat(chat().statusCode()).isEqualTo(200);
    }
    assertThat(cluster.sim.stats().requests()).isEqualTo(before + 3);
    assertThat(attacker.stats().requests()).isZero();
    // the file is still the edited one, and stays refused
    sidecar.config().reload();
    assertThat(sidecar.config().current().credential("openai").orElseThrow().endpoint())
        .isEqualTo(cluster.sim.baseUrl() + "/v1");
  }

  // ---- helpers ----

  /** Applies the namespace's credential (the simulator) and a route; the rendered text. */
  private String render(String ns) {
    MockApi.apply(client, cluster.simulatedCredential(ns));
    LLMRoute route = Fixtures.route(ns, "chat", "chat", Fixtures.tier("main", "openai", "gpt-4o"));
    MockApi.apply(client, route);
    await().until(() -> configText(ns) != null && configText(ns).contains("model: gpt-4o"));
    await().until(() -> cluster.operator.renderedConfigs().get(ns).isPresent());
    return configText(ns);
  }

  private String pointedAtAttacker(String text) {
    String tampered = text.replace(cluster.sim.baseUrl(), attacker.baseUrl());
    assertThat(tampered).isNotEqualTo(text);
    return tampered;
  }

  private static String configText(String ns) {
    ConfigMap cm = client.configMaps().inNamespace(ns).withName(SidecarConfigMap.NAME).get();
    return cm == null || cm.getData() == null ? null : cm.getData().get(SidecarConfigMap.KEY);
  }

  /** What a namespace editor can do: rewrite the ConfigMap's data (and leave its annotation). */
  private static void editConfigMap(String ns, String text) {
    client
        .configMaps()
        .inNamespace(ns)
        .withName(SidecarConfigMap.NAME)
        .edit(
            cm -> {
              cm.getData().put(SidecarConfigMap.KEY, text);
              return cm;
            });
    assertThat(configText(ns)).isEqualTo(text);
  }

  private Sidecar sidecar(String ns) throws Exception {
    return ReportingCluster.sidecar(
        dir, cluster.reporting(dir, ns, "pod-a", "uid-pod-a", channel.port()));
  }

  private HttpResponse<String> chat() throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(sidecar.baseUrl() + "/v1/chat/completions"))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> getConfig(String ns) throws Exception {
    return cluster
        .https()
        .send(
            HttpRequest.newBuilder(URI.create("https://localhost:" + channel.port() + "/v1/config"))
                .header("Authorization", "Bearer " + FakeTokenReviewer.token(ns, "pod-a"))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private String metricsText() throws Exception {
    return new String(sidecar.metrics().scrape(), java.nio.charset.StandardCharsets.UTF_8);
  }
}
