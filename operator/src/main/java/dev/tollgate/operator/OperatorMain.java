package dev.tollgate.operator;

import dev.tollgate.api.CrdSummary;
import dev.tollgate.operator.ops.HealthServer;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.operator.report.KubernetesTokenReviewer;
import dev.tollgate.operator.report.LeaderOnlyReports;
import dev.tollgate.operator.report.ReportChannel;
import dev.tollgate.operator.webhook.SidecarWebhook;
import dev.tollgate.operator.webhook.WebhookConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point. {@code run} (the default) runs the operator against the cluster of the ambient
 * kubeconfig or service account; {@code crds} prints what the generated API declares. Local mode
 * (the whole system in one process, without a cluster) is its own jar, {@code
 * local/target/tollgate-local.jar}, so that this one ships the operator only.
 */
public final class OperatorMain {
  private OperatorMain() {}

  public static void main(String[] args) throws Exception {
    // Must happen before the first logger exists, hence no static Logger in this class.
    if ("json".equalsIgnoreCase(System.getenv("TOLLGATE_LOG_FORMAT"))
        && System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "logback-json.xml");
    }
    String command = args.length == 0 || args[0].startsWith("--") ? "run" : args[0];
    String[] rest =
        args.length == 0 || args[0].startsWith("--")
            ? args
            : Arrays.copyOfRange(args, 1, args.length);
    switch (command) {
      case "local" -> {
        System.err.println(
            "local mode is its own jar: java -jar local/target/tollgate-local.jar [options]");
        System.exit(2);
      }
      case "crds" -> {
        System.out.println("Tollgate API (generated CRDs in crds/):");
        CrdSummary.print(System.out);
      }
      case "run" -> run(rest);
      default -> {
        System.err.println("usage: tollgate-operator [run|crds] [--flag=value ...]");
        System.err.print(OperatorConfig.usage());
        System.exit(2);
      }
    }
  }

  private static void run(String[] args) throws Exception {
    OperatorConfig config;
    try {
      config = OperatorConfig.from(System.getenv(), args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    Logger log = LoggerFactory.getLogger(OperatorMain.class);
    log.info(
        "starting: namespaces {}, leader election {} (Lease {}/{}), http port {}",
        config.watchesAllNamespaces() ? "all" : config.watchNamespaces(),
        config.leaderElection(),
        config.operatorNamespace(),
        config.leaseName(),
        config.httpPort());
    KubernetesClient client = new KubernetesClientBuilder().build();
    OperatorMetrics metrics = new OperatorMetrics(new PrometheusRegistry());
    WebhookConfig webhookConfig =
        WebhookConfig.fromEnv(System.getenv(), config.operatorNamespace(), config.configMapName());
    AtomicReference<SidecarWebhook> webhook = new AtomicReference<>();
    if (webhookConfig.enabled()) {
      // the webhook is stateless and runs on every replica
      webhook.set(
          SidecarWebhook.start(
              webhookConfig, config.operatorNamespace(), client, metrics.registry()));
    } else {
      log.info(
          "sidecar-injection webhook and report endpoint disabled (TOLLGATE_WEBHOOK_ENABLED=false)");
    }
    // The report endpoint writes the spend ledgers, so it runs on the leader only. It serves with
    // the webhook's certificate (same Service DNS names, same CA, which the webhook hands to
    // injected sidecars), on its own port.
    // the replies announce, and GET /v1/config serves, the operator's own render
    AtomicReference<TollgateOperator> rendering = new AtomicReference<>();
    LeaderOnlyReports reports =
        new LeaderOnlyReports(
            () ->
                ReportChannel.start(
                    ReportChannel.Settings.fromEnv(
                        System.getenv(), config.operatorNamespace(), config.watchNamespaces()),
                    client,
                    webhook.get().serverContext(),
                    new KubernetesTokenReviewer(client),
                    Clock.systemUTC(),
                    rendering.get().renderedConfigs()));
    Runnable startReports =
        webhook.get() == null
            ? () -> {}
            : () -> {
              try {
                reports.startLeading();
              } catch (RuntimeException e) {
                // a leader without its report endpoint would lose every sidecar's spend: let
                // another replica lead
                log.error("stopping: {}", e.getMessage(), e);
                System.exit(1);
              }
            };
    TollgateOperator operator =
        new TollgateOperator(
            config, client, metrics, Clock.systemUTC(), true, startReports, reports::stopLeading);
    rendering.set(operator);
    if (webhook.get() != null) {
      // the report endpoint's CA goes to each tenant namespace next to its configuration, and
      // again after a renewal, so running sidecars follow a CA rotation
      SidecarWebhook served = webhook.get();
      operator.publishReportCa(() -> served.tls().caPem());
      served.onRenewal(operator::reportCaChanged);
    }
    HealthServer http = new HealthServer(config.httpPort(), operator::isReady, metrics.registry());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("stopping");
                  reports.close();
                  if (webhook.get() != null) {
                    webhook.get().close();
                  }
                  operator.close();
                  http.close();
                  client.close();
                  stopped.countDown();
                },
                "tollgate-shutdown"));
    http.start();
    operator.start();
    stopped.await();
  }
}
