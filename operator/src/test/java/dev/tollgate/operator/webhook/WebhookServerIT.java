package dev.tollgate.operator.webhook;

import static dev.tollgate.operator.webhook.WebhookFixtures.SETTINGS;
import static dev.tollgate.operator.webhook.WebhookFixtures.pod;
import static dev.tollgate.operator.webhook.WebhookFixtures.review;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The webhook over real HTTPS on loopback, as the API server calls it. */
class WebhookServerIT {
  private final WebhookTls tls =
      WebhookTls.generate(
          List.of("localhost", "tollgate-webhook.tollgate-system.svc"), Duration.ofDays(365));
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
  void stop() {
    server.close();
  }

  @Test
  void answersAnAdmissionReviewOverTls() throws Exception {
    HttpClient client = HttpClient.newBuilder().sslContext(tls.clientContextTrustingCa()).build();

    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(
                    URI.create("https://localhost:" + server.port() + "/mutate-pods"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        Serialization.asJson(
                            review(pod(Map.of("tollgate.dev/inject", "true")), "support"))))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    AdmissionReview answer = Serialization.unmarshal(response.body(), AdmissionReview.class);
    assertThat(answer.getResponse().getAllowed()).isTrue();
    assertThat(answer.getResponse().getPatchType()).isEqualTo("JSONPatch");
  }

  @Test
  void malformedReviewsGetA400() throws Exception {
    HttpClient client = HttpClient.newBuilder().sslContext(tls.clientContextTrustingCa()).build();

    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(
                    URI.create("https://localhost:" + server.port() + "/mutate-pods"))
                .POST(HttpRequest.BodyPublishers.ofString("{not json"))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("malformed AdmissionReview");
  }

  @Test
  void thereIsNoPlainHttp() {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    assertThatThrownBy(
            () ->
                client.send(
                    HttpRequest.newBuilder(
                            URI.create("http://localhost:" + server.port() + "/healthz"))
                        .timeout(Duration.ofSeconds(3))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(IOException.class);
  }

  @Test
  void certificatesMountedByCertManagerAreUsed(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("tls.crt"), WebhookTls.toPem(tls.certificateChain().get(0)));
    // cert-manager writes PKCS#8 when the Certificate asks for privateKey.encoding: PKCS8.
    Files.writeString(
        dir.resolve("tls.key"),
        "-----BEGIN PRIVATE KEY-----\n"
            + java.util.Base64.getMimeEncoder().encodeToString(tls.privateKey().getEncoded())
            + "\n-----END PRIVATE KEY-----\n");
    Files.writeString(dir.resolve("ca.crt"), tls.caPem());

    WebhookTls loaded = WebhookTls.fromDirectory(dir);

    assertThat(loaded.certificateChain().get(0)).isEqualTo(tls.certificateChain().get(0));
    assertThat(loaded.privateKey().getEncoded()).isEqualTo(tls.privateKey().getEncoded());
    assertThat(loaded.caPem()).isEqualTo(tls.caPem());
  }

  @Test
  void missingCertificateFilesAreAnErrorNotAFallback(@TempDir Path dir) {
    assertThatThrownBy(() -> WebhookTls.fromDirectory(dir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("tls.crt and tls.key");
  }
}
