package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.ProviderSimulator;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Configuration and API keys mounted the way Kubernetes mounts ConfigMaps and Secrets (files behind
 * a {@code ..data} symlink that is swapped atomically), changed while the sidecar runs.
 */
class ConfigReloadIT {
  private ProviderSimulator sim;
  private Path mount;
  private Path secrets;
  private Sidecar sidecar;
  private final HttpClient http = HttpClient.newHttpClient();
  private int version;

  @BeforeEach
  void start() throws Exception {
    sim = ProviderSimulator.start();
    mount = Files.createTempDirectory("tollgate-cm");
    secrets = Files.createTempDirectory("tollgate-secret");
  }

  @AfterEach
  void stop() {
    if (sidecar != null) {
      sidecar.shutdown(Duration.ZERO);
    }
    sim.close();
  }

  /** Writes a new version the way the kubelet does: new dir, then swap the ..data symlink. */
  private static void atomicWrite(Path mount, String file, String content, int version)
      throws Exception {
    Path dir = mount.resolve("..v" + version);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(file), content);
    Path tmp = mount.resolve("..data_tmp");
    Files.deleteIfExists(tmp);
    Files.createSymbolicLink(tmp, dir.getFileName());
    Files.move(
        tmp,
        mount.resolve("..data"),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    Path link = mount.resolve(file);
    if (!Files.isSymbolicLink(link)) {
      Files.createSymbolicLink(link, Path.of("..data").resolve(file));
    }
  }

  private String config(String... routes) {
    StringBuilder sb = new StringBuilder("namespace: reload\nroutes:\n");
    for (String r : routes) {
      sb.append("  - model: ")
          .append(r)
          .append(
              "\n    tiers:\n      - name: main\n        targets: [{credential: openai, model: gpt-4o-mini}]\n");
    }
    sb.append("credentials:\n  - {name: openai, provider: openai, endpoint: \"")
        .append(sim.baseUrl())
        .append("/v1\", apiKeyFile: \"")
        .append(secrets.resolve("api-key"))
        .append("\"}\n");
    return sb.toString();
  }

  private int chat(String model) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create(sidecar.baseUrl() + "/v1/chat/completions"))
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\""
                            + model
                            + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  private int ready() throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create(sidecar.baseUrl() + "/readyz")).build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  @Test
  void notReadyUntilAValidConfigurationArrivesThenReloadsAndKeepsTheLastGoodOne() throws Exception {
    atomicWrite(secrets, "api-key", "key-1", 1);
    sidecar = Sidecar.start(mount.resolve("config.yaml"), 0, 1, Duration.ofMillis(100));
    assertThat(ready()).isEqualTo(503);
    assertThat(chat("chat")).isEqualTo(503);

    atomicWrite(mount, "config.yaml", config("chat"), ++version);
    await().atMost(Duration.ofSeconds(10)).until(() -> ready() == 200);
    assertThat(chat("chat")).isEqualTo(200);
    assertThat(chat("second")).isEqualTo(404);

    atomicWrite(mount, "config.yaml", config("chat", "second"), ++version);
    await().atMost(Duration.ofSeconds(10)).until(() -> chat("second") == 200);

    atomicWrite(
        mount,
        "config.yaml",
        "namespace: reload\nroutes:\n  - model: broken\n    tiers: []\n",
        ++version);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                sidecar.metrics().scrape().length > 0
                    && new String(sidecar.metrics().scrape())
                        .contains("tollgate_config_reloads_total{result=\"rejected\"} 1"));
    assertThat(chat("second")).as("the last good configuration stays").isEqualTo(200);
    assertThat(ready()).isEqualTo(200);
  }

  @Test
  void rotatedApiKeyIsPickedUpWithoutRestart() throws Exception {
    atomicWrite(secrets, "api-key", "key-1", 1);
    atomicWrite(mount, "config.yaml", config("chat"), ++version);
    sidecar = Sidecar.start(mount.resolve("config.yaml"), 0, 1, Duration.ofMillis(100));
    sim.requireApiKey("key-1");
    assertThat(chat("chat")).isEqualTo(200);

    sim.requireApiKey("key-2");
    assertThat(chat("chat")).isEqualTo(502);
    atomicWrite(secrets, "api-key", "key-2\n", 2);
    await().atMost(Duration.ofSeconds(10)).until(() -> chat("chat") == 200);
    assertThat(sim.lastRequest().header("authorization")).isEqualTo("Bearer key-2");
  }
}
