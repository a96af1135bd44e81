package dev.tollgate.operator.report;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.batch.BatchMeter;
import dev.tollgate.operator.batch.OpenBatches;
import dev.tollgate.operator.ledger.Accounting;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.render.RenderedConfigs;
import dev.tollgate.operator.status.KubernetesEventRecorder;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
   * @param configMapName name of the per-namespace sidecar ConfigMap (the replies announce the
   *     operator's own render, not this tenant-writable copy)
   * @param operatorNamespace the operator's own namespace, which holds the ledgers (one ConfigMap
   *     {@code <ledgerName>-<tenant namespace>} each), out of tenants' reach
   * @param watchNamespaces the namespaces whose Budgets, credentials and configurations the
   *     accounting watches (informers per namespace, for RBAC bound per namespace); empty: all
   */
  public record Settings(
      int port,
      Duration flushInterval,
      Duration grantTtl,
      String ledgerName,
      String configMapName,
      String operatorNamespace,
      Set<String> watchNamespaces,
      ReportServer.Capacity capacity) {
    public Settings {
      watchNamespaces = watchNamespaces == null ? Set.of() : Set.copyOf(watchNamespaces);
      capacity = capacity == null ? ReportServer.Capacity.DEFAULT : capacity;
    }

    /** With the default capacity of the report port. */
    public Settings(
        int port,
        Duration flushInterval,
        Duration grantTtl,
        String ledgerName,
        String configMapName,
        String operatorNamespace,
        Set<String> watchNamespaces) {
      this(
          port,
          flushInterval,
          grantTtl,
          ledgerName,
          configMapName,
          operatorNamespace,
          watchNamespaces,
          null);
    }

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
          ConfigMapLedgerStore.DEFAULT_OPERATOR_NAMESPACE,
          Set.of());
    }

    /** The same settings on another port (0 picks a free one). */
    public Settings withPort(int other) {
      return new Settings(
          other,
          flushInterval,
          grantTtl,
          ledgerName,
          configMapName,
          operatorNamespace,
          watchNamespaces,
          capacity);
    }

    /** From the {@code TOLLGATE_REPORT_*} environment, ledgers in {@code operatorNamespace}. */
    public static Settings fromEnv(Map<String, String> env, String operatorNamespace) {
      return fromEnv(env, operatorNamespace, Set.of());
    }

    /**
     * From the {@code TOLLGATE_REPORT_*} environment, ledgers in {@code operatorNamespace},
     * watching {@code watchNamespaces} (empty: all).
     */
    public static Settings fromEnv(
        Map<String, String> env, String operatorNamespace, Set<String> watchNamespaces) {
      return new Settings(
          Integer.parseInt(env.getOrDefault("TOLLGATE_REPORT_PORT", "8444").trim()),
          Duration.parse("PT" + env.getOrDefault("TOLLGATE_REPORT_FLUSH_INTERVAL", "0.5s").trim()),
          Duration.parse("PT" + env.getOrDefault("TOLLGATE_REPORT_GRANT_TTL", "30s").trim()),
          ConfigMapLedgerStore.DEFAULT_NAME,
          SidecarConfigMap.NAME,
          operatorNamespace,
          watchNamespaces,
          ReportServer.Capacity.fromEnv(env));
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(ReportChannel.class);

  private final Accounting accounting;
  private final ReportServer server;
  private final Directory directory;
  private final BatchMeter batches;

  private ReportChannel(
      Accounting accounting, ReportServer server, Directory directory, BatchMeter batches) {
    this.accounting = accounting;
    this.server = server;
    this.directory = directory;
    this.batches = batches;
  }

  /**
   * Starts the channel serving with {@code tls}, verifying tokens with {@code reviewer}, with no
   * rendered configurations: replies announce no configuration and {@code GET /v1/config} answers
   * 404 (tests of the channel alone, benchmarks).
   */
  public static ReportChannel start(
      Settings settings,
      KubernetesClient client,
      SSLContext tls,
      TokenReviewer reviewer,
      Clock clock)
      throws IOException {
    return start(settings, client, tls, reviewer, clock, new RenderedConfigs());
  }

  /**
   * Starts the channel serving with {@code tls}, verifying tokens with {@code reviewer}; replies
   * announce, and {@code GET /v1/config} serves, the configurations in {@code rendered} (the
   * operator's own render, {@link dev.tollgate.operator.TollgateOperator#renderedConfigs()}).
   */
  public static ReportChannel start(
      Settings settings,
      KubernetesClient client,
      SSLContext tls,
      TokenReviewer reviewer,
      Clock clock,
      RenderedConfigs rendered)
      throws IOException {
    return start(
        settings,
        client,
        tls,
        reviewer,
        clock,
        rendered,
        BatchMeter.Settings.fromEnv(System.getenv()));
  }

  /**
   * As {@link #start(Settings, KubernetesClient, SSLContext, TokenReviewer, Clock,
   * RenderedConfigs)}, metering provider batches as {@code batchSettings} say.
   */
  public static ReportChannel start(
      Settings settings,
      KubernetesClient client,
      SSLContext tls,
      TokenReviewer reviewer,
      Clock clock,
      RenderedConfigs rendered,
      BatchMeter.Settings batchSettings)
      throws IOException {
    // What every flush needs about a namespace comes from informer caches: no LIST or GET per
    // flush (at 100 namespaces and a write every half second that was 800 requests a second).
    Directory directory = Directory.start(client, settings, rendered);
    KubernetesEventRecorder events =
        new KubernetesEventRecorder(client, "tollgate-report-channel", clock);
    BatchMeter batches =
        new BatchMeter(
            new OpenBatches(client, settings.operatorNamespace()),
            directory,
            rendered,
            client,
            events,
            clock,
            batchSettings);
    directory.batches = batches;
    Accounting accounting =
        new Accounting(
            new ConfigMapLedgerStore(client, settings.operatorNamespace(), settings.ledgerName()),
            directory,
            clock,
            settings.flushInterval(),
            settings.grantTtl(),
            new Accounting.Listener() {
              @Override
              public void applied(String ns) {}

              @Override
              public void tooLarge(String ns, String message) {
                // the tenant sees it on its Budgets (once an hour), the operator's log every time
                LOG.error("{}: reports of namespace {} are refused until it shrinks", message, ns);
                String hour =
                    clock.instant().truncatedTo(java.time.temporal.ChronoUnit.HOURS).toString();
                for (Budget b : directory.budgets(ns)) {
                  events.warning(
                      b,
                      "ledger-too-large:" + hour,
                      "LedgerTooLarge",
                      message
                          + "; usage reports of this namespace are not applied (sidecars keep them"
                          + " and resend), so spend is not lost but allowances stop: fewer"
                          + " sidecars or fewer per-caller keys in this namespace, or ask the"
                          + " operator's administrator");
                }
              }
            });
    try {
      ReportChannel channel =
          new ReportChannel(
              accounting,
              ReportServer.start(
                  settings.port(),
                  tls,
                  reviewer,
                  accounting,
                  rendered::get,
                  settings.capacity(),
                  batches),
              directory,
              batches);
      batches.start(accounting);
      return channel;
    } catch (IOException | RuntimeException e) {
      batches.close();
      accounting.close();
      directory.close();
      throw e;
    }
  }

  /**
   * Budgets and ProviderCredentials from informers (over all namespaces, or one per watched
   * namespace), and the configurations this operator rendered, for the accounting.
   */
  private static final class Directory
      implements Accounting.BudgetDirectory, BatchMeter.Directory, AutoCloseable {
    private volatile BatchMeter batches;
    private final List<SharedIndexInformer<Budget>> budgets = new ArrayList<>();
    private final List<SharedIndexInformer<ProviderCredential>> credentials = new ArrayList<>();
    private final RenderedConfigs rendered;

    private Directory(RenderedConfigs rendered) {
      this.rendered = rendered;
    }

    /** Informers over all namespaces, or one set per watched namespace (RBAC per namespace). */
    static Directory start(KubernetesClient client, Settings settings, RenderedConfigs rendered) {
      Directory d = new Directory(rendered);
      try {
        if (settings.watchNamespaces().isEmpty()) {
          d.budgets.add(client.resources(Budget.class).inAnyNamespace().inform());
          d.credentials.add(client.resources(ProviderCredential.class).inAnyNamespace().inform());
        } else {
          for (String ns : settings.watchNamespaces()) {
            d.budgets.add(client.resources(Budget.class).inNamespace(ns).inform());
            d.credentials.add(client.resources(ProviderCredential.class).inNamespace(ns).inform());
          }
        }
        return d;
      } catch (RuntimeException e) {
        d.close();
        throw e;
      }
    }

    private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> List<T> in(
        List<SharedIndexInformer<T>> informers, String ns) {
      List<T> out = new ArrayList<>();
      for (SharedIndexInformer<T> i : informers) {
        out.addAll(new Lister<>(i.getIndexer(), ns).list());
      }
      return out;
    }

    @Override
    public List<Budget> budgets(String ns) {
      return in(budgets, ns);
    }

    @Override
    public List<ProviderCredential> credentials(String ns) {
      return in(credentials, ns);
    }

    // From the operator's own render: the ConfigMap's annotation is the tenant's to change.
    @Override
    public String configVersion(String ns) {
      return rendered.get(ns).map(RenderedConfigs.Rendered::version).orElse(null);
    }

    @Override
    public String configSha256(String ns) {
      return rendered.get(ns).map(RenderedConfigs.Rendered::sha256).orElse(null);
    }

    @Override
    public Map<String, java.math.BigDecimal> held(String ns) {
      BatchMeter b = batches;
      return b == null ? Map.of() : b.held(ns);
    }

    @Override
    public void close() {
      budgets.forEach(SharedIndexInformer::close);
      credentials.forEach(SharedIndexInformer::close);
    }
  }

  public int port() {
    return server.port();
  }

  /** The accounting behind the endpoint (benchmarks drive it without HTTPS). */
  public Accounting accounting() {
    return accounting;
  }

  /** The batch meter of this channel. */
  public BatchMeter batches() {
    return batches;
  }

  @Override
  public void close() {
    server.close();
    batches.close();
    accounting.close();
    directory.close();
  }
}
