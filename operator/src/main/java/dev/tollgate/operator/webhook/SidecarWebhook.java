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

  /** How often a mounted cert-manager certificate is checked for renewal. */
  static final java.time.Duration CERT_POLL = java.time.Duration.ofSeconds(30);

  private final WebhookServer server;
  private final ReloadingServerTls tls;

  private SidecarWebhook(WebhookServer server, ReloadingServerTls tls) {
    this.server = server;
    this.tls = tls;
  }

  /** The webhook's TLS material in force now. */
  public WebhookTls tls() {
    return tls.current();
  }

  /**
   * The SSL context the webhook serves with, following certificate renewals; the report endpoint
   * serves with it too.
   */
  public javax.net.ssl.SSLContext serverContext() {
    return tls.serverContext();
  }

  /** Runs {@code action} after each renewed certificate (possibly a new CA) took effect. */
  public void onRenewal(Runnable action) {
    tls.onRenewal(action);
  }

  /** Starts the webhook described by {@code config}. */
  public static SidecarWebhook start(
      WebhookConfig config,
      String operatorNamespace,
      KubernetesClient client,
      PrometheusRegistry registry)
      throws IOException {
    ReloadingServerTls serving;
    if (config.certDir() != null) {
      serving = ReloadingServerTls.watching(config.certDir(), CERT_POLL);
      LOG.info(
          "webhook TLS from {} (checked for renewal every {} s)",
          config.certDir(),
          CERT_POLL.toSeconds());
    } else {
      WebhookTls generated =
          new GeneratedCertificateStore(client, Clock.systemUTC())
              .loadOrCreate(
                  operatorNamespace, config.certSecret(), config.dnsNames(operatorNamespace));
      new CaBundlePublisher(client).publish(config.configurationName(), generated.caPem());
      serving = ReloadingServerTls.fixed(generated);
    }
    WebhookTls tls = serving.current();
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
    return new SidecarWebhook(
        WebhookServer.start(config.port(), serving.serverContext(), handler), serving);
  }

  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    server.close();
    tls.close();
  }
}
