package dev.tollgate.operator.webhook;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the CA of a generated webhook certificate into the {@code caBundle} of every webhook of
 * the Tollgate MutatingWebhookConfiguration, so the API server trusts the operator's certificate.
 * Not used when cert-manager's CA injector manages the bundle.
 */
public final class CaBundlePublisher {
  private static final Logger LOG = LoggerFactory.getLogger(CaBundlePublisher.class);

  private final KubernetesClient client;

  public CaBundlePublisher(KubernetesClient client) {
    this.client = client;
  }

  /**
   * Patches the configuration named {@code configurationName}.
   *
   * @throws IllegalStateException if the configuration does not exist (the chart creates it)
   */
  public void publish(String configurationName, String caPem) {
    String bundle = Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII));
    MutatingWebhookConfiguration existing =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(configurationName)
            .get();
    if (existing == null) {
      throw new IllegalStateException(
          "MutatingWebhookConfiguration "
              + configurationName
              + " not found: install it with the Helm chart, or disable the webhook");
    }
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(configurationName)
        .edit(
            config -> {
              for (MutatingWebhook webhook : config.getWebhooks()) {
                webhook.getClientConfig().setCaBundle(bundle);
              }
              return config;
            });
    LOG.info("published the webhook CA to MutatingWebhookConfiguration {}", configurationName);
  }
}
