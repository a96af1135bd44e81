package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.webhook.WebhookTls;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The report endpoint's connection cap is a setting (issue #16): 2,048 fixed connections could not
 * hold 10,000 sidecars that keep their connection to the leader alive.
 */
@EnableKubernetesMockClient(crud = true)
class ReportCapacityIT {
  static KubernetesClient client;
  private final WebhookTls tls = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
  private final List<Socket> sockets = new ArrayList<>();
  private ReportChannel channel;

  @AfterEach
  void stop() throws Exception {
    for (Socket s : sockets) {
      s.close();
    }
    if (channel != null) {
      channel.close();
    }
  }

  @Test
  void theDefaultHoldsTenThousandPodsAndTheEnvironmentChangesIt() {
    ReportServer.Capacity defaults = ReportChannel.Settings.fromEnv(Map.of(), "ops").capacity();
    assertThat(defaults.maxConnections()).isGreaterThanOrEqualTo(2 * 10_000);
    ReportServer.Capacity set =
        ReportChannel.Settings.fromEnv(
                Map.of(
                    "TOLLGATE_REPORT_MAX_CONNECTIONS", "50000",
                    "TOLLGATE_REPORT_WORKERS", "32",
                    "TOLLGATE_REPORT_QUEUE", "4096"),
                "ops")
            .capacity();
    assertThat(set).isEqualTo(new ReportServer.Capacity(50_000, 32, 4096));
    assertThatThrownBy(
            () ->
                ReportChannel.Settings.fromEnv(
                    Map.of("TOLLGATE_REPORT_MAX_CONNECTIONS", "lots"), "ops"))
        .hasMessageContaining("TOLLGATE_REPORT_MAX_CONNECTIONS")
        .hasMessageContaining("lots");
  }

  @Test
  void connectionsBeyondTheConfiguredCapAreClosed() throws Exception {
    channel =
        ReportChannel.start(
            new ReportChannel.Settings(
                0,
                Duration.ofMillis(100),
                Duration.ofSeconds(30),
                ConfigMapLedgerStore.DEFAULT_NAME,
                SidecarConfigMap.NAME,
                ConfigMapLedgerStore.DEFAULT_OPERATOR_NAMESPACE,
                Set.of(),
                new ReportServer.Capacity(3, 2, 8)),
            client,
            tls.serverContext(),
            new FakeTokenReviewer(),
            Clock.systemUTC());
    for (int i = 0; i < 3; i++) {
      sockets.add(new Socket("localhost", channel.port()));
    }
    Thread.sleep(200); // the server counts them as they are accepted
    Socket fourth = new Socket("localhost", channel.port());
    sockets.add(fourth);
    fourth.setSoTimeout(3000);
    InputStream in = fourth.getInputStream();
    // closed at once: end of stream, well before the 5 s handshake deadline
    assertThat(in.read()).isEqualTo(-1);
    // the ones within the cap are still open (waiting for their handshake)
    Socket first = sockets.get(0);
    first.setSoTimeout(300);
    assertThatThrownBy(() -> first.getInputStream().read())
        .isInstanceOf(SocketTimeoutException.class);
  }
}
