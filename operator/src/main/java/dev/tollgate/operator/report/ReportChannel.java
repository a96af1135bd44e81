package dev.tollgate.operator.report;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.ledger.Accounting;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * Assembles the sidecar → operator reporting channel: the per-namespace spend ledger in a
 * ConfigMap, the group-committing {@link Accounting}, TokenReview authentication and the HTTPS
 * {@link ReportServer}.
 */
public final class ReportChannel implements AutoCloseable {
  /**
   * Settings of the channel.
   *
   * @param port HTTPS port of {@code POST /v1/reports} ({@code TOLLGATE_REPORT_PORT}, default 8444)
   * @param flushInterval how long reports gather before one ledger write ({@code
   *     TOLLGATE_REPORT_FLUSH_INTERVAL}, default 500ms)
   * @param grantTtl a sidecar silent this long is no longer live and its allowance is released
   *     ({@code TOLLGATE_REPORT_GRANT_TTL}, default 30s)
   * @param ledgerName name of the per-namespace ledger ConfigMap
   * @param configMapName name of the per-namespace sidecar ConfigMap, whose version the replies
   *     carry
   * @param operatorNamespace the operator's own namespace, which holds the ledgers (one ConfigMap
   *     {@code <ledgerName>-<tenant namespace>} each), out of tenants' reach
   */
  public record Settings(
      int port,
      Duration flushInterval,
      Duration grantTtl,
      String ledgerName,
      String configMapName,
      String operatorNamespace) {
    /**
     * With the default sidecar ConfigMap name, ledgers in {@value
     * ConfigMapLedgerStore#DEFAULT_OPERATOR_NAMESPACE}.
     */
    public Settings(int port, Duration flushInterval, Duration grantTtl, String ledgerName) {
      this(
          port,
          flushInterval,
          grantTtl,
          ledgerName,
          SidecarConfigMap.NAME,
          ConfigMapLedgerStore.DEFAULT_OPERATOR_NAMESPACE);
    }

    /** The same settings on another port (0 picks a free one). */
    public Settings withPort(int other) {
      return new Settings(
          other, flushInterval, grantTtl, ledgerName, configMapName, operatorNamespace);
    }

    /** From the {@code TOLLGATE_REPORT_*} environment, ledgers in {@code operatorNamespace}. */
    public static Settings fromEnv(Map<String, String> env, String operatorNamespace) {
      return new Settings(
          Integer.parseInt(env.getOrDefault("TOLLGATE_REPORT_PORT", "8444").trim()),
          Duration.parse("PT" + env.getOrDefault("TOLLGATE_REPORT_FLUSH_INTERVAL", "0.5s").trim()),
          Duration.parse("PT" + env.getOrDefault("TOLLGATE_REPORT_GRANT_TTL", "30s").trim()),
          ConfigMapLedgerStore.DEFAULT_NAME,
          SidecarConfigMap.NAME,
          operatorNamespace);
    }
  }

  private final Accounting accounting;
  private final ReportServer server;

  private ReportChannel(Accounting accounting, ReportServer server) {
    this.accounting = accounting;
    this.server = server;
  }

  /** Starts the channel serving with {@code tls}, verifying tokens with {@code reviewer}. */
  public static ReportChannel start(
      Settings settings,
      KubernetesClient client,
      SSLContext tls,
      TokenReviewer reviewer,
      Clock clock)
      throws IOException {
    Accounting accounting =
        new Accounting(
            new ConfigMapLedgerStore(client, settings.operatorNamespace(), settings.ledgerName()),
            new Accounting.BudgetDirectory() {
              @Override
              public List<Budget> budgets(String ns) {
                return client.resources(Budget.class).inNamespace(ns).list().getItems();
              }

              @Override
              public List<ProviderCredential> credentials(String ns) {
                return client.resources(ProviderCredential.class).inNamespace(ns).list().getItems();
              }

              @Override
              public String configVersion(String ns) {
                ConfigMap cm =
                    client.configMaps().inNamespace(ns).withName(settings.configMapName()).get();
                return cm == null || cm.getMetadata().getAnnotations() == null
                    ? null
                    : cm.getMetadata().getAnnotations().get(SidecarConfigMap.VERSION_ANNOTATION);
              }
            },
            clock,
            settings.flushInterval(),
            settings.grantTtl(),
            ns -> {});
    try {
      return new ReportChannel(
          accounting,
          ReportServer.start(
              settings.port(),
              tls,
              reviewer,
              accounting,
              ns -> {
                ConfigMap cm =
                    client.configMaps().inNamespace(ns).withName(settings.configMapName()).get();
                if (cm == null
                    || cm.getData() == null
                    || cm.getData().get(SidecarConfigMap.KEY) == null) {
                  return java.util.Optional.empty();
                }
                return java.util.Optional.of(
                    new ConfigEndpoint.Rendered(
                        cm.getData().get(SidecarConfigMap.KEY),
                        cm.getMetadata().getAnnotations() == null
                            ? null
                            : cm.getMetadata()
                                .getAnnotations()
                                .get(SidecarConfigMap.VERSION_ANNOTATION)));
              }));
    } catch (IOException | RuntimeException e) {
      accounting.close();
      throw e;
    }
  }

  public int port() {
    return server.port();
  }

  /** The accounting behind the endpoint (benchmarks drive it without HTTPS). */
  public Accounting accounting() {
    return accounting;
  }

  @Override
  public void close() {
    server.close();
    accounting.close();
  }
}
