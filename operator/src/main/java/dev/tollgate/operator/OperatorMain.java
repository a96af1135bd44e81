package dev.tollgate.operator;

import dev.tollgate.api.CrdSummary;
import dev.tollgate.operator.local.LocalMode;
import dev.tollgate.operator.ops.HealthServer;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.operator.report.KubernetesTokenReviewer;
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
 * kubeconfig or service account; {@code local} runs the whole system in this process (embedded API
 * server, operator, provider simulators, sidecars) on an example; {@code crds} prints what the
 * generated API declares.
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
      case "local" -> System.exit(LocalMode.run(rest, System.out));
      case "crds" -> {
        System.out.println("Tollgate API (generated CRDs in crds/):");
        CrdSummary.print(System.out);
      }
      case "run" -> run(rest);
      default -> {
        System.err.println("usage: tollgate-operator [run|local|crds] [--flag=value ...]");
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
    TollgateOperator operator =
        new TollgateOperator(config, client, metrics, Clock.systemUTC(), true);
    HealthServer http = new HealthServer(config.httpPort(), operator::isReady, metrics.registry());
    WebhookConfig webhookConfig =
        WebhookConfig.fromEnv(System.getenv(), config.operatorNamespace(), config.configMapName());
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicReference<SidecarWebhook> webhook = new AtomicReference<>();
    AtomicReference<ReportChannel> reports = new AtomicReference<>();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("stopping");
                  if (reports.get() != null) {
                    reports.get().close();
                  }
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
    if (webhookConfig.enabled()) {
      webhook.set(
          SidecarWebhook.start(
              webhookConfig, config.operatorNamespace(), client, metrics.registry()));
      // The report endpoint serves with the webhook's certificate (same Service DNS names, same
      // CA, which the webhook hands to injected sidecars), on its own port.
      reports.set(
          ReportChannel.start(
              ReportChannel.Settings.fromEnv(
                  System.getenv(), config.operatorNamespace(), config.watchNamespaces()),
              client,
              webhook.get().serverContext(),
              new KubernetesTokenReviewer(client),
              Clock.systemUTC()));
    } else {
      log.info(
          "sidecar-injection webhook and report endpoint disabled (TOLLGATE_WEBHOOK_ENABLED=false)");
    }
    stopped.await();
  }
}
