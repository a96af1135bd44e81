package dev.tollgate.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Two replicas share one generated webhook certificate; it is renewed before it expires. */
@EnableKubernetesMockClient(crud = true)
class GeneratedCertificateStoreIT {
  private static final List<String> NAMES = List.of("tg-webhook.tollgate-system.svc");
  KubernetesClient client;

  @Test
  void secondReplicaServesTheCertificateTheFirstStored() {
    GeneratedCertificateStore first = new GeneratedCertificateStore(client, Clock.systemUTC());
    GeneratedCertificateStore second = new GeneratedCertificateStore(client, Clock.systemUTC());

    WebhookTls a = first.loadOrCreate("tollgate-system", "tg-webhook-tls", NAMES);
    WebhookTls b = second.loadOrCreate("tollgate-system", "tg-webhook-tls", NAMES);

    assertThat(b.certificateChain()).isEqualTo(a.certificateChain());
    assertThat(b.privateKey().getEncoded()).isEqualTo(a.privateKey().getEncoded());
    assertThat(b.caPem()).isEqualTo(a.caPem());
    Secret secret =
        client.secrets().inNamespace("tollgate-system").withName("tg-webhook-tls").get();
    assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(secret.getData()).containsKeys("tls.crt", "tls.key", "ca.crt");
  }

  @Test
  void aCertificateCloseToExpiryIsReplaced() {
    WebhookTls original =
        new GeneratedCertificateStore(client, Clock.systemUTC())
            .loadOrCreate("tollgate-system", "tg-webhook-tls", NAMES);
    Clock elevenMonthsLater = Clock.fixed(Instant.now().plus(Duration.ofDays(340)), ZoneOffset.UTC);

    WebhookTls renewed =
        new GeneratedCertificateStore(client, elevenMonthsLater)
            .loadOrCreate("tollgate-system", "tg-webhook-tls", NAMES);

    assertThat(renewed.certificateChain().get(0)).isNotEqualTo(original.certificateChain().get(0));
    assertThat(
            new GeneratedCertificateStore(client, Clock.systemUTC())
                .loadOrCreate("tollgate-system", "tg-webhook-tls", NAMES)
                .certificateChain())
        .isEqualTo(renewed.certificateChain());
  }

  @Test
  void aCertificateForOtherNamesIsReplaced() {
    WebhookTls original =
        new GeneratedCertificateStore(client, Clock.systemUTC())
            .loadOrCreate("tollgate-system", "tg-webhook-tls", NAMES);

    WebhookTls renamed =
        new GeneratedCertificateStore(client, Clock.systemUTC())
            .loadOrCreate(
                "tollgate-system", "tg-webhook-tls", List.of("other.tollgate-system.svc"));

    assertThat(renamed.certificateChain().get(0)).isNotEqualTo(original.certificateChain().get(0));
  }
}
