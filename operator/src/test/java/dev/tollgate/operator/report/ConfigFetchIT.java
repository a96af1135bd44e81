package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.simulator.ProviderSimulator;
import io.fabric8.kubernetes.api.model.Condition;
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
 * A sidecar whose mounted configuration is stale (the kubelet has not updated it) converges on the
 * operator's current version by fetching it over the report channel, and LLMRoute status says how
 * many sidecars run the current version. The fetch serves only the caller's own namespace.
 */
@EnableKubernetesMockClient(crud = true)
class ConfigFetchIT {
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  static KubernetesClient client;
  static ReportingCluster cluster;
  static ProviderSimulator sim;

  @TempDir Path dir;
  private ReportChannel channel;
  private Sidecar sidecar;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "config-fetch-it");
    sim = cluster.sim;
  }

  @AfterAll
  static void stop() {
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
  }

  @Test
  void aSidecarWithAStaleMountedConfigurationFetchesTheCurrentOne() throws Exception {
    String ns = "stale";
    String v1 = render(ns, "gpt-4o");
    ReportingCluster.writeApiKey(dir);
    Path file = dir.resolve("config.yaml");
    Files.writeString(file, configText(ns));
    startChannel();
    sidecar = sidecar(ns, "pod-a", Duration.ofSeconds(1));
    assertThat(sidecar.config().current().version()).isEqualTo(v1);
    awaitRollout(ns, v1, 1, 1, "True");

    // another sidecar, on a version the operator no longer renders: not Ready
    postReport(ns, "pod-x", "old-version");
    awaitRollout(ns, v1, 2, 1, "False");
    assertThat(ready(ns).getReason()).isEqualTo("RollingOut");
    postReport(ns, "pod-x", v1);
    awaitRollout(ns, v1, 2, 2, "True");

    // the route changes; the kubelet never updates pod-a's file
    String v2 = render(ns, "gpt-4o-mini");
    assertThat(v2).isNotEqualTo(v1);
    String mounted = Files.readString(file);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> v2.equals(sidecar.config().current().version()));
    assertThat(Files.readString(file)).isEqualTo(mounted);
    HttpResponse<String> r = chat(sidecar);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-tollgate-model")).hasValue("gpt-4o-mini");
    postReport(ns, "pod-x", v2);
    awaitRollout(ns, v2, 2, 2, "True");
  }

  @Test
  void aPodReadsOnlyItsOwnNamespacesConfiguration() throws Exception {
    render("tenant-a", "gpt-4o");
    render("tenant-b", "gpt-4o-mini");
    startChannel();
    HttpResponse<String> own = getConfig(FakeTokenReviewer.token("tenant-a", "pod-a"), "");
    assertThat(own.statusCode()).isEqualTo(200);
    assertThat(own.body()).isEqualTo(configText("tenant-a")).contains("namespace: tenant-a");
    assertThat(own.headers().firstValue("x-tollgate-config-version")).hasValue(version("tenant-a"));
    HttpResponse<String> other =
        getConfig(FakeTokenReviewer.token("tenant-a", "pod-a"), "?namespace=tenant-b");
    assertThat(other.statusCode()).isEqualTo(403);
    assertThat(other.body())
        .contains("may only read the configuration of namespace tenant-a")
        .doesNotContain("gpt-4o-mini");
    assertThat(getConfig("forged", "").statusCode()).isEqualTo(401);
    assertThat(getConfig(FakeTokenReviewer.token("tenant-c", "pod-c"), "").statusCode())
        .isEqualTo(404);
  }

  // ---- helpers ----

  /** Applies the namespace's credential and route (serving {@code model}); its rendered version. */
  private String render(String ns, String model) {
    MockApi.apply(client, cluster.simulatedCredential(ns));
    LLMRoute route = Fixtures.route(ns, "chat", "chat", Fixtures.tier("main", "openai", model));
    MockApi.apply(client, route);
    await().until(() -> configText(ns) != null && configText(ns).contains("model: " + model));
    return version(ns);
  }

  private static String configText(String ns) {
    ConfigMap cm = client.configMaps().inNamespace(ns).withName(SidecarConfigMap.NAME).get();
    return cm == null || cm.getData() == null ? null : cm.getData().get(SidecarConfigMap.KEY);
  }

  private static String version(String ns) {
    return client
        .configMaps()
        .inNamespace(ns)
        .withName(SidecarConfigMap.NAME)
        .get()
        .getMetadata()
        .getAnnotations()
        .get(SidecarConfigMap.VERSION_ANNOTATION);
  }

  private void awaitRollout(String ns, String version, int total, int upToDate, String ready) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              LLMRoute route =
                  client.resources(LLMRoute.class).inNamespace(ns).withName("chat").get();
              var sidecars = route.getStatus().getSidecars();
              assertThat(sidecars).isNotNull();
              assertThat(sidecars.getConfigVersion()).isEqualTo(version);
              assertThat(sidecars.getTotal()).isEqualTo(total);
              assertThat(sidecars.getUpToDate()).isEqualTo(upToDate);
              assertThat(ready(ns).getStatus()).isEqualTo(ready);
            });
  }

  private static Condition ready(String ns) {
    return Conditions.find(
            client
                .resources(LLMRoute.class)
                .inNamespace(ns)
                .withName("chat")
                .get()
                .getStatus()
                .getConditions(),
            Conditions.READY)
        .orElseThrow();
  }

  private void startChannel() throws Exception {
    channel = cluster.channel();
  }

  private Sidecar sidecar(String ns, String pod, Duration grace) throws Exception {
    return ReportingCluster.sidecar(
        dir, cluster.reporting(dir, ns, pod, "uid-" + pod, channel.port(), grace));
  }

  private long sequence;

  /** A report from a pod that runs {@code version} (no usage). */
  private void postReport(String ns, String pod, String version) throws Exception {
    UsageReport report =
        UsageReport.builder(ns, pod, "uid-" + pod, "boot", ++sequence, version).build();
    HttpClient https = cluster.https();
    HttpResponse<String> r =
        https.send(
            HttpRequest.newBuilder(
                    URI.create("https://localhost:" + channel.port() + ReportServer.PATH))
                .header("Authorization", "Bearer " + FakeTokenReviewer.token(ns, pod))
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(report)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  private HttpResponse<String> getConfig(String token, String query) throws Exception {
    HttpClient https = cluster.https();
    return https.send(
        HttpRequest.newBuilder(
                URI.create("https://localhost:" + channel.port() + "/v1/config" + query))
            .header("Authorization", "Bearer " + token)
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> chat(Sidecar s) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(s.baseUrl() + "/v1/chat/completions"))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
