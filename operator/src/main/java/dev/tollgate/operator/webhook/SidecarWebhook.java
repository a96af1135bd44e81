package dev.tollgate.operator.webhook;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Assembles and starts the injection webhook: TLS material (cert-manager files, or a generated
 * certificate shared through a Secret with its CA published to the webhook configuration), the
 * admission handler and the HTTPS server. Every replica serves it; it needs no leadership.
 */
public final class SidecarWebhook implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SidecarWebhook.class);

  private final WebhookServer server;
  private final WebhookTls tls;

  private SidecarWebhook(WebhookServer server, WebhookTls tls) {
    this.server = server;
    this.tls = tls;
  }

  /** The webhook's TLS material; the report endpoint serves with the same certificate. */
  public WebhookTls tls() {
    return tls;
  }

  /** Starts the webhook described by {@code config}. */
  public static SidecarWebhook start(
      WebhookConfig config,
      String operatorNamespace,
      KubernetesClient client,
      PrometheusRegistry registry)
      throws IOException {
    WebhookTls tls;
    if (config.certDir() != null) {
      tls = WebhookTls.fromDirectory(config.certDir());
      LOG.info("webhook TLS from {}", config.certDir());
    } else {
      tls =
          new GeneratedCertificateStore(client, Clock.systemUTC())
              .loadOrCreate(
                  operatorNamespace, config.certSecret(), config.dnsNames(operatorNamespace));
      new CaBundlePublisher(client).publish(config.configurationName(), tls.caPem());
    }
    Counter decisions =
        Counter.builder()
            .name("tollgate_operator_injections_total")
            .help("Pod admissions seen by the sidecar-injection webhook, by decision.")
            .labelNames("decision")
            .register(registry);
    PodInjectionHandler handler =
        new PodInjectionHandler(
            new SidecarInjector(config.injection(), tls.caPem()),
            new KubernetesNamespaceView(client, config.injection().configMapName()),
            (decision, namespace) -> decisions.labelValues(decision.name().toLowerCase()).inc());
    return new SidecarWebhook(WebhookServer.start(config.port(), tls, handler), tls);
  }

  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    server.close();
  }
}
