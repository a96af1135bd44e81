package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.webhook.ReloadingServerTls;
import dev.tollgate.operator.webhook.WebhookTls;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import dev.tollgate.sidecar.report.ReporterSettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report endpoint's CA and certificate rotate (cert-manager renews them with a new CA): the
 * operator writes the new CA into the namespace's {@code tollgate-report-ca} ConfigMap, the kubelet
 * updates the pod's mount, and the running sidecar reports again without a restart.
 */
@EnableKubernetesMockClient(crud = true)
class ReportCaRotationIT {
  static KubernetesClient client;
  static ReportingCluster cluster;

  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    cluster = ReportingCluster.start(client, "report-ca-rotation-it");
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void aRotatedCaAndCertificateReachARunningSidecarWithoutARestart() throws Exception {
    String ns = "rotating";
    Path certs = Files.createDirectories(dir.resolve("certs"));
    WebhookTls first = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
    writeCertManagerFiles(certs, first);
    ReportChannel channel = null;
    Sidecar sidecar = null;
    ReloadingServerTls restarted = null;
    try (ReloadingServerTls serving = ReloadingServerTls.watching(certs, Duration.ofHours(1))) {
      // as OperatorMain wires it
      cluster.operator.publishReportCa(() -> serving.current().caPem());
      serving.onRenewal(cluster.operator::reportCaChanged);
      MockApi.apply(client, cluster.simulatedCredential(ns));
      MockApi.apply(
          client, Fixtures.route(ns, "chat", "chat", Fixtures.tier("main", "openai", "gpt-4o")));
      cluster.mountConfig(ns, "gpt-4o", dir);
      Path caFile = dir.resolve("report-ca").resolve(SidecarConfigMap.REPORT_CA_KEY);
      kubeletMounts(ns, caFile, first.caPem());

      channel = channel(serving, 0);
      int port = channel.port();
      ReporterSettings base = cluster.reporting(dir, ns, "pod-a", "uid-pod-a", port);
      ReporterSettings settings =
          new ReporterSettings(
              base.url(),
              base.tokenFile(),
              null,
              ns,
              "pod-a",
              "uid-pod-a",
              base.interval(),
              null,
              caFile);
      sidecar = ReportingCluster.sidecar(dir, settings);
      Sidecar s = sidecar;
      await().atMost(Duration.ofSeconds(20)).until(() -> s.reporter().acknowledged() >= 1);
      String boot = sidecar.reporter().bootId();

      // cert-manager renews with a new CA; the operator serves the new pair and publishes the CA
      WebhookTls second = WebhookTls.generate(List.of("localhost"), Duration.ofDays(90));
      writeCertManagerFiles(certs, second);
      assertThat(serving.reloadIfChanged()).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> second.caPem().equals(reportCa(ns)));
      // a new operator pod serves the new pair (a fresh TLS context: no session made under the
      // old certificate can be resumed): a sidecar that trusts only the old CA cannot report
      channel.close();
      restarted = ReloadingServerTls.watching(certs, Duration.ofHours(1));
      channel = channel(restarted, port);
      long before = sidecar.reporter().acknowledged();
      Thread.sleep(1_500);
      assertThat(sidecar.reporter().acknowledged()).as("old CA: refused").isEqualTo(before);

      // the kubelet updates the mounted ConfigMap; the same sidecar process reports again
      kubeletMounts(ns, caFile, second.caPem());
      await().atMost(Duration.ofSeconds(20)).until(() -> s.reporter().acknowledged() > before);
      assertThat(sidecar.reporter().bootId()).as("no restart").isEqualTo(boot);
    } finally {
      if (sidecar != null) {
        sidecar.close();
      }
      if (channel != null) {
        channel.close();
      }
      if (restarted != null) {
        restarted.close();
      }
    }
  }

  private ReportChannel channel(ReloadingServerTls serving, int port) throws Exception {
    return ReportChannel.start(
        new ReportChannel.Settings(
            port,
            Duration.ofMillis(100),
            Duration.ofSeconds(30),
            ConfigMapLedgerStore.DEFAULT_NAME),
        client,
        serving.serverContext(),
        new FakeTokenReviewer(),
        Clock.systemUTC(),
        cluster.operator.renderedConfigs());
  }

  private static String reportCa(String ns) {
    ConfigMap cm =
        client.configMaps().inNamespace(ns).withName(SidecarConfigMap.REPORT_CA_NAME).get();
    return cm == null || cm.getData() == null
        ? null
        : cm.getData().get(SidecarConfigMap.REPORT_CA_KEY);
  }

  /** What the kubelet does: once the ConfigMap holds {@code expected}, the file holds it too. */
  private static void kubeletMounts(String ns, Path file, String expected) throws Exception {
    await().atMost(Duration.ofSeconds(10)).until(() -> expected.equals(reportCa(ns)));
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling("ca.crt.tmp");
    Files.writeString(tmp, reportCa(ns));
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** {@code tls.crt}, {@code tls.key} (PKCS#8) and {@code ca.crt}, as cert-manager writes them. */
  private static void writeCertManagerFiles(Path dir, WebhookTls tls) throws Exception {
    Base64.Encoder pem = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
    Files.writeString(
        dir.resolve("tls.crt"),
        "-----BEGIN CERTIFICATE-----\n"
            + pem.encodeToString(tls.certificateChain().get(0).getEncoded())
            + "\n-----END CERTIFICATE-----\n");
    Files.writeString(
        dir.resolve("tls.key"),
        "-----BEGIN PRIVATE KEY-----\n"
            + pem.encodeToString(tls.privateKey().getEncoded())
            + "\n-----END PRIVATE KEY-----\n");
    Files.writeString(dir.resolve("ca.crt"), tls.caPem());
  }
}
