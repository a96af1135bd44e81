package dev.tollgate.operator.webhook;

import static dev.tollgate.operator.webhook.WebhookFixtures.SETTINGS;
import static dev.tollgate.operator.webhook.WebhookFixtures.pod;
import static dev.tollgate.operator.webhook.WebhookFixtures.review;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The webhook under stalled and slow connections (issue #16): with the JDK HttpsServer two
 * connections that start a TLS handshake and stop held both handler threads, so the API server's
 * admission calls timed out and pods started without the sidecar.
 */
class WebhookAbuseIT {
  private final WebhookTls tls = WebhookTls.generate(List.of("localhost"), Duration.ofDays(365));
  private final List<Socket> sockets = new ArrayList<>();
  private WebhookServer server;

  @BeforeEach
  void start() throws IOException {
    server =
        WebhookServer.start(
            0,
            tls,
            new PodInjectionHandler(
                new SidecarInjector(SETTINGS),
                new WebhookFixtures.FixedView(Map.of(), Set.of("openai-api-key")),
                (d, ns) -> {}));
  }

  @AfterEach
  void stop() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    server.close();
  }

  private HttpResponse<String> admit() throws Exception {
    HttpClient client =
        HttpClient.newBuilder()
            .sslContext(tls.clientContextTrustingCa())
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    return client.send(
        HttpRequest.newBuilder(URI.create("https://localhost:" + server.port() + "/mutate-pods"))
            // generous: the first AdmissionReview of a JVM loads the fabric8 model; a stalled
            // server
            // never completes the TLS handshake (the connect timeout above)
            .timeout(Duration.ofSeconds(20))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    Serialization.asJson(
                        review(pod(Map.of("tollgate.dev/inject", "true")), "support"))))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A connection that starts a TLS handshake and then sends nothing more. */
  static Socket stalled(int port) throws IOException {
    Socket s = new Socket("localhost", port);
    // the first bytes of a TLS record header (handshake, TLS 1.0 framing, 255 bytes to come)
    s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xff});
    s.getOutputStream().flush();
    return s;
  }

  @Test
  void stalledConnectionsDoNotStopAdmission() throws Exception {
    for (int i = 0; i < 16; i++) {
      sockets.add(stalled(server.port()));
    }
    assertThat(admit().statusCode()).isEqualTo(200);
  }

  @Test
  void aConnectionThatNeverHandshakesIsClosed() throws Exception {
    Socket idle = new Socket("localhost", server.port());
    sockets.add(idle);
    assertThat(closedWithin(idle, Duration.ofSeconds(15))).isTrue();
  }

  @Test
  void aSlowSenderIsCutOff() throws Exception {
    SSLSocket slow =
        (SSLSocket)
            tls.clientContextTrustingCa()
                .getSocketFactory()
                .createSocket("localhost", server.port());
    sockets.add(slow);
    slow.startHandshake();
    OutputStream out = slow.getOutputStream();
    byte[] request =
        "POST /mutate-pods HTTP/1.1\r\nHost: localhost\r\n".getBytes(StandardCharsets.US_ASCII);
    long t0 = System.nanoTime();
    boolean cut = false;
    for (int i = 0; i < request.length && !cut; i++) {
      try {
        out.write(request[i]);
        out.flush();
      } catch (IOException e) {
        cut = true;
        break;
      }
      // one byte a second: the request would take most of a minute
      cut = closedWithin(slow, Duration.ofSeconds(1));
    }
    assertThat(cut).as("the slow connection was closed").isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
    // and admission still works
    assertThat(admit().statusCode()).isEqualTo(200);
  }

  /** Whether the server closed {@code s} within {@code wait}. */
  static boolean closedWithin(Socket s, Duration wait) throws IOException {
    s.setSoTimeout((int) wait.toMillis());
    try {
      InputStream in = s.getInputStream();
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset, or TLS closed
    }
  }
}
