package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.webhook.WebhookTls;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The report endpoint under stalled connections (issue #16): with the JDK HttpsServer and 64
 * handler threads, 64 connections that start a TLS handshake and stop stalled every sidecar's
 * report (each held a handler thread reading the handshake).
 */
@EnableKubernetesMockClient(crud = true)
class ReportServerHoldsIT {
  static KubernetesClient client;
  private final WebhookTls tls = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
  private final List<Socket> sockets = new ArrayList<>();
  private ReportChannel channel;

  @AfterEach
  void stop() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    if (channel != null) {
      channel.close();
    }
  }

  @Test
  void stalledConnectionsDoNotStallReports() throws Exception {
    channel =
        ReportChannel.start(
            new ReportChannel.Settings(
                0,
                Duration.ofMillis(100),
                Duration.ofSeconds(30),
                ConfigMapLedgerStore.DEFAULT_NAME),
            client,
            tls.serverContext(),
            new FakeTokenReviewer(),
            Clock.systemUTC());
    for (int i = 0; i < 100; i++) {
      // each starts a TLS handshake and then sends nothing more
      Socket s = new Socket("localhost", channel.port());
      s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xff});
      s.getOutputStream().flush();
      sockets.add(s);
    }
    HttpClient https =
        HttpClient.newBuilder()
            .sslContext(tls.clientContextTrustingCa())
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    HttpResponse<String> r =
        https.send(
            HttpRequest.newBuilder(
                    URI.create("https://localhost:" + channel.port() + ReportServer.PATH))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + FakeTokenReviewer.token("ns", "pod", "uid"))
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"namespace\":\"ns\",\"pod\":\"pod\",\"podUid\":\"uid\","
                            + "\"bootId\":\"b\",\"sequence\":1}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    // the stalled connections go once the handshake deadline passes
    assertThat(Sockets.closedWithin(sockets.get(0), Duration.ofSeconds(15))).isTrue();
  }
}
