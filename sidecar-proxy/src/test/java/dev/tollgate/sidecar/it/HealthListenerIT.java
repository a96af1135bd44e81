package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tollgate.sidecar.config.HealthSettings;
import dev.tollgate.sidecar.health.HealthListener;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collections;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kubelet probes and Prometheus reach the sidecar on the pod IP: the health listener answers there,
 * serves nothing of the proxy, and the proxy itself stays on loopback.
 */
class HealthListenerIT {
  private static TestBed bed;
  private static HealthListener health;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
    health = bed.sidecar.serveHealth(new HealthSettings("0.0.0.0", 0));
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @Test
  void healthListenerIsBoundToAllInterfacesByDefault() {
    assertThat(HealthSettings.fromEnv(java.util.Map.of()))
        .isEqualTo(new HealthSettings("0.0.0.0", HealthSettings.DEFAULT_PORT));
    assertThat(health.address().getAddress().isAnyLocalAddress()).isTrue();
  }

  @Test
  void probesAndMetricsAnswerOnTheHealthPort() throws Exception {
    assertThat(get("/healthz")).satisfies(r -> assertThat(r.statusCode()).isEqualTo(200));
    HttpResponse<String> ready = get("/readyz");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).startsWith("ready: configuration");
    HttpResponse<String> metrics = get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("tollgate_");
  }

  @Test
  void livenessFailsWhenTheProxyDoesNotAnswer() throws Exception {
    int nothingListens;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      nothingListens = s.getLocalPort();
    }
    try (HealthListener orphan =
        HealthListener.start(
            new HealthSettings("127.0.0.1", 0), bed.sidecar.context(), nothingListens)) {
      HttpResponse<String> live =
          bed.http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + orphan.port() + "/healthz"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());

      assertThat(live.statusCode()).isEqualTo(503);
      assertThat(live.body()).contains("proxy does not answer");
    }
  }

  @Test
  void proxyPathsAreNotServedOnTheHealthPort() throws Exception {
    HttpResponse<String> chat =
        bed.http.send(
            HttpRequest.newBuilder(healthUri("/v1/chat/completions"))
                .header("content-type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(chat.statusCode()).isEqualTo(404);
    assertThat(get("/v1/models").statusCode()).isEqualTo(404);
    assertThat(get("/v1/messages").statusCode()).isEqualTo(404);
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void healthPortAnswersOnThePodAddressAndTheProxyPortDoesNot() throws Exception {
    Optional<InetAddress> podAddress = nonLoopbackAddress();
    assumeTrue(podAddress.isPresent(), "this machine has no non-loopback IPv4 address");

    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(podAddress.get(), health.port()), 2000);
      assertThat(s.isConnected()).isTrue();
    }
    assertThatThrownBy(
            () -> {
              try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(podAddress.get(), bed.sidecar.port()), 2000);
              }
            })
        .isInstanceOf(ConnectException.class);
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return bed.http.send(
        HttpRequest.newBuilder(healthUri(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static URI healthUri(String path) {
    return URI.create("http://127.0.0.1:" + health.port() + path);
  }

  private static Optional<InetAddress> nonLoopbackAddress() throws Exception {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(nic.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
          return Optional.of(a);
        }
      }
    }
    return Optional.empty();
  }
}
