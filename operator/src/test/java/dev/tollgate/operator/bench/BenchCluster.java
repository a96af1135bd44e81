package dev.tollgate.operator.bench;

import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.TollgateOperator;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.operator.report.ReportChannel;
import dev.tollgate.operator.report.ReportServer;
import dev.tollgate.operator.report.TokenReviewer;
import dev.tollgate.operator.webhook.WebhookTls;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.SecretMounts;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import dev.tollgate.sidecar.report.ReporterSettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;

/**
 * What the reporting benchmarks run on, in one JVM: a fabric8 mock API server (CRUD), the operator,
 * its report endpoint (HTTPS, group commit every 500 ms, one token accepted for {@link #NAMESPACE})
 * and the sidecars they start on the rendered configuration.
 */
final class BenchCluster implements AutoCloseable {
  static final String NAMESPACE = "bench";
  private static final String TOKEN = "bench-token";

  final KubernetesClient client;
  private final KubernetesMockServer server;
  private final TollgateOperator operator;
  private final WebhookTls tls;
  private final ReportChannel channel;
  private final List<Sidecar> sidecars = new ArrayList<>();

  private BenchCluster(
      KubernetesMockServer server,
      KubernetesClient client,
      TollgateOperator operator,
      WebhookTls tls,
      ReportChannel channel) {
    this.server = server;
    this.client = client;
    this.operator = operator;
    this.tls = tls;
    this.channel = channel;
  }

  static BenchCluster start() throws IOException {
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver")
        .setLevel(java.util.logging.Level.WARNING);
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init();
    KubernetesClient client = server.createClient();
    TollgateOperator operator =
        new TollgateOperator(
            MockApi.config(false, NAMESPACE),
            client,
            new OperatorMetrics(new PrometheusRegistry()),
            Clock.systemUTC(),
            false);
    operator.start();
    WebhookTls tls = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
    TokenReviewer reviewer =
        t ->
            t.startsWith(TOKEN + ":")
                ? Optional.of(
                    new TokenReviewer.Identity(
                        NAMESPACE,
                        "default",
                        "bench-" + t.substring(TOKEN.length() + 1),
                        "uid-bench-" + t.substring(TOKEN.length() + 1)))
                : Optional.empty();
    ReportChannel channel =
        ReportChannel.start(
            new ReportChannel.Settings(
                0,
                Duration.ofMillis(500),
                Duration.ofSeconds(30),
                ConfigMapLedgerStore.DEFAULT_NAME),
            client,
            tls.serverContext(),
            reviewer,
            Clock.systemUTC(),
            operator.renderedConfigs());
    return new BenchCluster(server, client, operator, tls, channel);
  }

  /**
   * Waits until the namespace's rendered configuration mentions {@code waitFor}, writes it to a
   * temporary directory with the {@code openai-key} Secret's key file, and starts {@code count}
   * sidecars on it ({@code bench-0}, {@code bench-1}, ...) reporting every {@code interval}.
   */
  List<Sidecar> startSidecars(int count, String waitFor, Duration interval) throws Exception {
    Path dir = Files.createTempDirectory("tollgate-bench");
    ConfigMap cm;
    while ((cm = client.configMaps().inNamespace(NAMESPACE).withName(SidecarConfigMap.NAME).get())
            == null
        || !cm.getData().getOrDefault(SidecarConfigMap.KEY, "").contains(waitFor)) {
      Thread.sleep(100);
    }
    Path key =
        Path.of(SecretMounts.keyFile(dir.resolve("secrets").toString(), "openai-key", "api-key"));
    Files.createDirectories(key.getParent());
    Files.writeString(key, "sk-bench");
    Path config = dir.resolve("config.yaml");
    Files.writeString(config, cm.getData().get(SidecarConfigMap.KEY));
    List<Sidecar> started = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      // one pod-bound token per sidecar, as in a cluster
      Path tokenFile = dir.resolve("token-" + i);
      Files.writeString(tokenFile, TOKEN + ":" + i);
      started.add(
          Sidecar.start(
              config,
              0,
              1,
              Duration.ofSeconds(1),
              new ReporterSettings(
                  URI.create("https://localhost:" + channel.port() + ReportServer.PATH),
                  tokenFile,
                  tls.caPem(),
                  NAMESPACE,
                  "bench-" + i,
                  "uid-bench-" + i,
                  interval),
              null,
              dir.resolve("secrets")));
    }
    sidecars.addAll(started);
    return started;
  }

  @Override
  public void close() {
    for (Sidecar s : sidecars) {
      s.close();
    }
    channel.close();
    operator.close();
    client.close();
    server.destroy();
  }
}
