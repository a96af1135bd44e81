package dev.tollgate.operator.webhook;

import static dev.tollgate.operator.webhook.WebhookFixtures.pod;
import static dev.tollgate.operator.webhook.WebhookFixtures.review;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.config.SecretMounts;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.net.ssl.HttpsURLConnection;
import org.junit.jupiter.api.Test;

/**
 * The webhook as the operator starts it against an API server: it stores its certificate, publishes
 * the CA to the webhook configuration, and injects the Secrets the namespace's configuration names.
 */
@EnableKubernetesMockClient(crud = true)
class SidecarWebhookIT {
  KubernetesClient client;

  @Test
  void startsPublishesItsCaAndInjectsWhatTheConfigurationNames() throws Exception {
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(
            new MutatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName("tg-sidecar-injector")
                .endMetadata()
                .addNewWebhook()
                .withName("sidecar.tollgate.dev")
                .withNewClientConfig()
                .withNewService()
                .withName("tg-webhook")
                .withNamespace("tollgate-system")
                .endService()
                .endClientConfig()
                .endWebhook()
                .build())
        .create();
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName("support")
                .addToLabels("tollgate.dev/injection", "enabled")
                .endMetadata()
                .build())
        .create();
    SidecarConfig rendered =
        new SidecarConfig(
            null,
            "support",
            null,
            List.of(),
            List.of(
                CredentialConfig.builder("openai", ProviderKind.OPENAI)
                    .apiKeyFile(SecretMounts.keyFile("openai-api-key", "api-key"))
                    .build()),
            List.of());
    client
        .configMaps()
        .inNamespace("support")
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("tollgate-sidecar-config")
                .endMetadata()
                .addToData("config.yaml", SidecarConfigCodec.write(rendered))
                .build())
        .create();
    WebhookConfig config =
        WebhookConfig.fromEnv(
            Map.of(
                "TOLLGATE_WEBHOOK_ENABLED", "true",
                "TOLLGATE_WEBHOOK_PORT", "0",
                "TOLLGATE_WEBHOOK_SERVICE", "tg-webhook",
                "TOLLGATE_WEBHOOK_CONFIGURATION", "tg-sidecar-injector",
                "TOLLGATE_WEBHOOK_CERT_SECRET", "tg-webhook-tls"),
            "tollgate-system",
            "tollgate-sidecar-config");

    try (SidecarWebhook webhook =
        SidecarWebhook.start(config, "tollgate-system", client, new PrometheusRegistry())) {
      String caBundle =
          client
              .admissionRegistration()
              .v1()
              .mutatingWebhookConfigurations()
              .withName("tg-sidecar-injector")
              .get()
              .getWebhooks()
              .get(0)
              .getClientConfig()
              .getCaBundle();
      String storedCa =
          new String(
              Base64.getDecoder()
                  .decode(
                      client
                          .secrets()
                          .inNamespace("tollgate-system")
                          .withName("tg-webhook-tls")
                          .get()
                          .getData()
                          .get("ca.crt")),
              StandardCharsets.US_ASCII);
      assertThat(new String(Base64.getDecoder().decode(caBundle), StandardCharsets.US_ASCII))
          .isEqualTo(storedCa);

      // The certificate names the Service, not localhost. The API server checks the name; this
      // test checks the chain, so it accepts the host name explicitly.
      WebhookTls trusted = new WebhookTls(List.of(), null, storedCa);
      HttpsURLConnection connection =
          (HttpsURLConnection)
              URI.create("https://localhost:" + webhook.port() + "/mutate-pods")
                  .toURL()
                  .openConnection();
      connection.setSSLSocketFactory(trusted.clientContextTrustingCa().getSocketFactory());
      connection.setHostnameVerifier((host, session) -> host.equals("localhost"));
      connection.setRequestMethod("POST");
      connection.setDoOutput(true);
      try (var out = connection.getOutputStream()) {
        out.write(
            Serialization.asJson(review(pod(Map.of()), "support"))
                .getBytes(StandardCharsets.UTF_8));
      }
      assertThat(connection.getResponseCode()).isEqualTo(200);
      String body;
      try (var in = connection.getInputStream()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      AdmissionReview answer = Serialization.unmarshal(body, AdmissionReview.class);
      String patch =
          new String(
              Base64.getDecoder().decode(answer.getResponse().getPatch()), StandardCharsets.UTF_8);
      assertThat(patch)
          .contains(SecretMounts.volumeName("openai-api-key"))
          .contains("/var/run/tollgate/secrets/openai-api-key")
          .contains("tollgate-sidecar");
    }
  }
}
