package dev.tollgate.operator.batch;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.CredentialAuth;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.SecretKeyRef;
import dev.tollgate.operator.ledger.Accounting;
import dev.tollgate.operator.render.RenderedConfigs;
import dev.tollgate.operator.status.EventRecorder;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.SidecarConfigException;
import dev.tollgate.sidecar.config.batch.BatchResults;
import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Meters provider batches once they end, whatever happened to the pod that submitted them.
 *
 * <p>A sidecar reports each batch the provider accepted ({@link UsageReport#batches()}); {@link
 * #record} adds it to the namespace's {@link OpenBatches} before the report is applied, so a batch
 * is known as soon as its report is acknowledged. While it runs, its estimate is held against its
 * budgets ({@link #held}: allowances leave it out). Every {@code pollInterval} the meter asks the
 * provider, with the credential's key read from its Secret, about the batches that are due; a batch
 * that has ended has its results read and priced ({@link BatchResults}: succeeded items at batch
 * prices, errored, canceled and expired ones at nothing) and applied to the spend ledger as a
 * report of its own — reporter {@code batch:<id>}, sequence 1 — so the ledger's watermark applies
 * it at most once even when the operator restarts or a new leader takes over between the apply and
 * the removal from the open set (which releases the hold). Errors back off exponentially and are
 * announced as Events on the batch's Budgets; a batch the provider no longer knows (404) releases
 * its hold with an Event, nothing spent.
 */
public final class BatchMeter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BatchMeter.class);

  /** Polls per tick at most, across namespaces: the rest wait for the next tick. */
  static final int MAX_POLLS_PER_TICK = 50;

  /**
   * How the meter polls ({@code TOLLGATE_BATCH_POLL_INTERVAL}, default 30s).
   *
   * @param pollInterval between two polls of a running batch
   * @param maxBackoff the longest pause after failures
   * @param giveUpAfter a batch that cannot be metered this long after it was admitted is dropped,
   *     with an Event, and its hold released
   * @param apis the provider batch API of each {@link UsageReport.AdmittedBatch#api()}
   */
  public record Settings(
      Duration pollInterval,
      Duration maxBackoff,
      Duration giveUpAfter,
      Map<String, ProviderBatches> apis) {
    public Settings {
      apis = Map.copyOf(apis);
    }

    /** One {@link ProviderBatches} for every batch API (a test's fake). */
    public Settings(
        Duration pollInterval, Duration maxBackoff, Duration giveUpAfter, ProviderBatches api) {
      this(
          pollInterval,
          maxBackoff,
          giveUpAfter,
          Map.of(
              UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES,
              api,
              UsageReport.AdmittedBatch.OPENAI_BATCH,
              api));
    }

    public static Settings fromEnv(Map<String, String> env) {
      return new Settings(
          Duration.parse("PT" + env.getOrDefault("TOLLGATE_BATCH_POLL_INTERVAL", "30s").trim()),
          Duration.ofHours(1),
          Duration.ofDays(7),
          providers());
    }

    /** Polling every {@code interval}, against the real providers. */
    public static Settings every(Duration interval) {
      return new Settings(interval, Duration.ofHours(1), Duration.ofDays(7), providers());
    }

    private static Map<String, ProviderBatches> providers() {
      return Map.of(
          UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES,
          new AnthropicBatches(),
          UsageReport.AdmittedBatch.OPENAI_BATCH,
          new OpenAiBatches());
    }
  }

  /** The operator state the meter reads. */
  public interface Directory {
    List<Budget> budgets(String namespace);

    List<ProviderCredential> credentials(String namespace);
  }

  private final OpenBatches books;
  private final Directory directory;
  private final RenderedConfigs rendered;
  private final KubernetesClient client;
  private final EventRecorder events;
  private final Clock clock;
  private final Settings settings;
  private final ConcurrentHashMap<String, Map<String, BigDecimal>> held = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer;
  private volatile Accounting accounting;
  private volatile boolean closed;

  public BatchMeter(
      OpenBatches books,
      Directory directory,
      RenderedConfigs rendered,
      KubernetesClient client,
      EventRecorder events,
      Clock clock,
      Settings settings) {
    this.books = books;
    this.directory = directory;
    this.rendered = rendered;
    this.client = client;
    this.events = events;
    this.clock = clock;
    this.settings = settings;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "tollgate-batch-meter");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts polling; ended batches are applied through {@code accounting}. */
  public void start(Accounting into) {
    this.accounting = into;
    long every = settings.pollInterval().toMillis();
    timer.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Opens the batches a sidecar of {@code namespace} reported (idempotent: a batch already open or
   * already metered is left as it is). Throws when the open set cannot be stored: the report must
   * then not be acknowledged, so the sidecar resends it.
   */
  public void record(String namespace, String pod, List<UsageReport.AdmittedBatch> batches) {
    List<String> untracked = new ArrayList<>();
    Instant now = clock.instant();
    OpenBatches.Book book =
        books.update(
            namespace,
            b -> {
              untracked.clear();
              for (UsageReport.AdmittedBatch a : batches) {
                if (b.open.containsKey(a.id()) || b.done.containsKey(a.id())) {
                  continue;
                }
                if (b.open.size() >= OpenBatches.MAX_OPEN) {
                  untracked.add(a.id());
                  continue;
                }
                OpenBatches.Open o = new OpenBatches.Open();
                o.credential = a.credential();
                o.api = a.api();
                o.items = a.items();
                o.estimates = new TreeMap<>(a.estimates());
                o.routes = new ArrayList<>(a.routes());
                o.pod = pod;
                o.admittedAt = now.toString();
                o.nextPollAt = now.plus(settings.pollInterval()).toString();
                b.open.put(a.id(), o);
              }
              return b;
            });
    held.put(namespace, book.held());
    for (String id : untracked) {
      warn(
          namespace,
          budgetsOf(namespace, null),
          "batch-untracked:" + id,
          "BatchNotTracked",
          "batch "
              + id
              + " of pod "
              + pod
              + " is not metered: "
              + OpenBatches.MAX_OPEN
              + " batches of this namespace are already open");
    }
  }

  /** USD held per budget of {@code namespace} by its open batches. */
  public Map<String, BigDecimal> held(String namespace) {
    return held.computeIfAbsent(
        namespace,
        ns -> {
          try {
            return books.read(ns).held();
          } catch (RuntimeException e) {
            LOG.warn("cannot read the open batches of {}: {}", ns, e.toString());
            return Map.of();
          }
        });
  }

  /** One round: every namespace's due batches, at most {@link #MAX_POLLS_PER_TICK}. */
  void tick() {
    try {
      int polls = 0;
      for (String ns : books.namespaces()) {
        OpenBatches.Book book = books.read(ns);
        held.put(ns, book.held());
        Instant now = clock.instant();
        for (Map.Entry<String, OpenBatches.Open> e : book.open.entrySet()) {
          if (polls >= MAX_POLLS_PER_TICK) {
            return;
          }
          if (e.getValue().nextPollAt != null
              && Instant.parse(e.getValue().nextPollAt).isAfter(now)) {
            continue;
          }
          polls++;
          meter(ns, e.getKey(), e.getValue());
        }
      }
    } catch (RuntimeException e) {
      if (!closed) {
        LOG.warn("batch metering round failed: {}", e.toString());
      }
    }
  }

  private void meter(String ns, String id, OpenBatches.Open batch) {
    Instant now = clock.instant();
    ProviderBatches.Poll poll;
    try {
      poll = poll(ns, batch, id);
    } catch (RuntimeException e) {
      poll = new ProviderBatches.Failed("MeteringFailed", e.toString(), false);
    }
    List<Budget> budgets = budgetsOf(ns, batch);
    if (poll instanceof ProviderBatches.Running) {
      schedule(ns, id, now.plus(settings.pollInterval()), 0, null);
    } else if (poll instanceof ProviderBatches.Ended ended) {
      apply(ns, id, batch, ended.results(), budgets);
    } else if (poll instanceof ProviderBatches.ResultsGone gone) {
      chargeEstimate(ns, id, batch, gone, budgets);
    } else if (poll instanceof ProviderBatches.Gone gone) {
      finish(ns, id, "gone");
      warn(
          ns,
          budgets,
          "batch-gone:" + id,
          "BatchGone",
          gone.message()
              + "; its estimate is no longer held and nothing is counted for it (it was deleted"
              + " or never existed at this provider)");
    } else if (poll instanceof ProviderBatches.Failed f) {
      failed(ns, id, batch, f, budgets, now);
    }
  }

  private ProviderBatches.Poll poll(String ns, OpenBatches.Open batch, String id) {
    Optional<SidecarConfig> cfg = config(ns);
    Optional<CredentialConfig> credential = cfg.flatMap(c -> c.credential(batch.credential));
    if (credential.isEmpty()) {
      return new ProviderBatches.Failed(
          "CredentialMissing",
          "ProviderCredential "
              + batch.credential
              + " of batch "
              + id
              + " is not in the namespace's configuration; restore it to meter the batch",
          true);
    }
    Optional<String> key = apiKey(ns, batch.credential);
    if (key.isEmpty()) {
      return new ProviderBatches.Failed(
          "NoApiKey",
          "the API key of ProviderCredential "
              + batch.credential
              + " cannot be read (its Secret is missing, or it uses a cloud identity, which the"
              + " operator does not hold)",
          true);
    }
    // books written before OpenAI batches name no api: they are Anthropic's
    String api = batch.api == null ? UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES : batch.api;
    ProviderBatches provider = settings.apis().get(api);
    if (provider == null) {
      return new ProviderBatches.Failed(
          "UnknownBatchApi",
          "batch " + id + " names batch api " + api + ", which is not metered",
          true);
    }
    PriceCatalogue prices = PriceCatalogue.builtIn();
    if (cfg.get().prices() != null) {
      prices = prices.withOverrides(cfg.get().prices());
    }
    return provider.poll(credential.get(), key.get(), id, prices);
  }

  private Optional<SidecarConfig> config(String ns) {
    Optional<RenderedConfigs.Rendered> r = rendered.get(ns);
    if (r.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(SidecarConfigCodec.read(r.get().text()));
    } catch (SidecarConfigException e) {
      LOG.warn("the rendered configuration of {} is not readable: {}", ns, e.getMessage());
      return Optional.empty();
    }
  }

  private Optional<String> apiKey(String ns, String credentialName) {
    ProviderCredential pc =
        directory.credentials(ns).stream()
            .filter(c -> credentialName.equals(c.getMetadata().getName()))
            .findFirst()
            .orElse(null);
    if (pc == null || pc.getSpec() == null) {
      return Optional.empty();
    }
    CredentialAuth auth = pc.getSpec().getAuth();
    if (auth != null && auth.getType() != null && auth.getType() != CredentialAuth.Type.API_KEY) {
      return Optional.empty();
    }
    SecretKeyRef ref = pc.getSpec().getSecretRef();
    if (ref == null || ref.getName() == null || ref.getKey() == null) {
      return Optional.empty();
    }
    Secret secret = client.secrets().inNamespace(ns).withName(ref.getName()).get();
    if (secret == null) {
      return Optional.empty();
    }
    if (secret.getData() != null && secret.getData().get(ref.getKey()) != null) {
      return Optional.of(
          new String(
                  Base64.getDecoder().decode(secret.getData().get(ref.getKey())),
                  StandardCharsets.UTF_8)
              .trim());
    }
    if (secret.getStringData() != null && secret.getStringData().get(ref.getKey()) != null) {
      return Optional.of(secret.getStringData().get(ref.getKey()).trim());
    }
    return Optional.empty();
  }

  /**
   * Applies an ended batch's spend as the report of reporter {@code batch:<id>} (applied at most
   * once by the ledger's watermark), then closes the batch, which releases its hold. A crash in
   * between leaves the batch open: the next round applies the same report again, which the
   * watermark ignores, and closes it.
   */
  private void apply(
      String ns,
      String id,
      OpenBatches.Open batch,
      BatchResults.Summary results,
      List<Budget> budgets) {
    UsageReport report = report(ns, id, batch, results);
    try {
      accounting.submit(report).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      LOG.warn("the spend of batch {} of {} could not be applied yet: {}", id, ns, e.toString());
      return; // still open: the next round tries again
    }
    finish(ns, id, "metered");
    LOG.info(
        "batch {} of {} metered: {} succeeded, {} failed, {} USD",
        id,
        ns,
        results.succeeded(),
        results.failed(),
        results.costUsd().toPlainString());
    for (Budget b : budgets) {
      events.normal(
          b,
          "batch-metered:" + id,
          "BatchMetered",
          "batch "
              + id
              + " ended: "
              + results.succeeded()
              + " items succeeded, "
              + results.failed()
              + " errored, canceled or expired (not billed); "
              + results.costUsd().toPlainString()
              + " USD at batch prices");
    }
    if (results.unreadable() > 0 || results.unpriced() > 0) {
      warn(
          ns,
          budgets,
          "batch-unmetered-items:" + id,
          results.unreadable() > 0 ? "BatchResultsUnreadable" : "BatchItemsUnpriced",
          "batch "
              + id
              + ": "
              + results.unreadable()
              + " result lines could not be read and "
              + results.unpriced()
              + " succeeded items have no price; they are not in the spend (add a price with"
              + " spec.pricing of the ProviderCredential)");
    }
  }

  /**
   * Charges an ended batch whose results cannot be read from its estimate: each budget's estimate
   * times the share of requests that completed (all of it when the provider does not say), applied
   * once like any batch, on the first route of that budget the batch named.
   */
  private void chargeEstimate(
      String ns,
      String id,
      OpenBatches.Open batch,
      ProviderBatches.ResultsGone gone,
      List<Budget> budgets) {
    UsageReport report = estimateReport(ns, id, batch, gone.completed(), gone.total());
    try {
      accounting.submit(report).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      LOG.warn("the estimate of batch {} of {} could not be applied yet: {}", id, ns, e.toString());
      return;
    }
    finish(ns, id, "estimated");
    BigDecimal usd = BigDecimal.ZERO;
    for (UsageReport.Line l : report.lines()) {
      usd = usd.add(new BigDecimal(l.costUsd()));
    }
    warn(
        ns,
        budgets,
        "batch-estimated:" + id,
        "BatchChargedFromEstimate",
        gone.message()
            + "; batch "
            + id
            + " is charged "
            + usd.toPlainString()
            + " USD from its estimate for "
            + (gone.completed() < 0 ? "all" : String.valueOf(gone.completed()))
            + " of "
            + (gone.total() > 0 ? String.valueOf(gone.total()) : "its")
            + " requests completed");
  }

  /** The ledger report of a batch charged from its estimate: one line per budget. */
  static UsageReport estimateReport(
      String ns, String id, OpenBatches.Open batch, long completed, long total) {
    List<UsageReport.Line> lines = new ArrayList<>();
    boolean share = completed >= 0 && total > 0 && completed <= total;
    for (Map.Entry<String, String> e : batch.estimates.entrySet()) {
      BigDecimal usd = new BigDecimal(e.getValue());
      if (share) {
        usd =
            usd.multiply(BigDecimal.valueOf(completed))
                .divide(BigDecimal.valueOf(total), 9, java.math.RoundingMode.UP)
                .stripTrailingZeros();
      }
      UsageReport.BatchRoute route =
          batch.routes.stream().filter(r -> e.getKey().equals(r.budget())).findFirst().orElse(null);
      lines.add(
          UsageReport.Line.builder(
                  route == null ? "_passthrough" : route.route(),
                  Accounting.BATCH_TIER,
                  batch.credential,
                  route == null ? "_estimate" : route.model(),
                  e.getKey())
              .requests(share ? completed : batch.items)
              .costUsd(usd.toPlainString())
              .build());
    }
    return UsageReport.builder(ns, "batch-" + id, "batch:" + id, "batch", 1, null)
        .lines(lines)
        .last(true)
        .build();
  }

  /** The ledger report of an ended batch: one line per model of its succeeded items. */
  static UsageReport report(
      String ns, String id, OpenBatches.Open batch, BatchResults.Summary results) {
    List<UsageReport.Line> lines = new ArrayList<>();
    for (Map.Entry<String, BatchResults.ModelTotals> e : results.byModel().entrySet()) {
      String model = e.getKey();
      BatchResults.ModelTotals t = e.getValue();
      UsageReport.BatchRoute route =
          batch.routes.stream().filter(r -> model.equals(r.model())).findFirst().orElse(null);
      lines.add(
          UsageReport.Line.builder(
                  route == null ? "_passthrough" : route.route(),
                  Accounting.BATCH_TIER,
                  batch.credential,
                  model,
                  route == null ? null : route.budget())
              .requests(t.items())
              .inputTokens(t.inputTokens())
              .outputTokens(t.outputTokens())
              .cacheReadTokens(t.cacheReadTokens())
              .cacheWriteTokens(t.cacheWriteTokens())
              .costUsd(t.costUsd() == null ? null : t.costUsd().toPlainString())
              .build());
    }
    return UsageReport.builder(ns, "batch-" + id, "batch:" + id, "batch", 1, null)
        .lines(lines)
        .last(true)
        .build();
  }

  private void failed(
      String ns,
      String id,
      OpenBatches.Open batch,
      ProviderBatches.Failed f,
      List<Budget> budgets,
      Instant now) {
    Instant admitted = batch.admittedAt == null ? now : Instant.parse(batch.admittedAt);
    if (admitted.plus(settings.giveUpAfter()).isBefore(now)) {
      finish(ns, id, "abandoned");
      warn(
          ns,
          budgets,
          "batch-abandoned:" + id,
          "BatchNotMetered",
          "batch "
              + id
              + " could not be metered within "
              + settings.giveUpAfter()
              + " of its submission ("
              + f.message()
              + "); its estimate is released and its spend is not counted");
      return;
    }
    int failures = batch.failures + 1;
    long factor = 1L << Math.min(20, failures);
    Duration pause = settings.pollInterval().multipliedBy(factor);
    if (pause.compareTo(settings.maxBackoff()) > 0) {
      pause = settings.maxBackoff();
    }
    schedule(ns, id, now.plus(pause), failures, f.reason() + ": " + f.message());
    LOG.warn("batch {} of {}: {} (retry in {})", id, ns, f.message(), pause);
    if (f.permanent() || failures >= 3) {
      warn(
          ns,
          budgets,
          "batch-failing:" + f.reason() + ":" + id,
          "BatchPollFailed",
          f.message()
              + "; the batch stays open, its estimate held, and is asked again in "
              + pause);
    }
  }

  private void schedule(String ns, String id, Instant next, int failures, String error) {
    books.update(
        ns,
        b -> {
          OpenBatches.Open o = b.open.get(id);
          if (o != null) {
            o.nextPollAt = next.toString();
            o.failures = failures;
            o.lastError = error;
          }
          return b;
        });
  }

  private void finish(String ns, String id, String outcome) {
    Instant now = clock.instant();
    OpenBatches.Book book =
        books.update(
            ns,
            b -> {
              b.finish(id, outcome, now);
              return b;
            });
    held.put(ns, book.held());
  }

  private List<Budget> budgetsOf(String ns, OpenBatches.Open batch) {
    List<Budget> all = directory.budgets(ns);
    if (batch == null || batch.estimates.isEmpty()) {
      return all;
    }
    return all.stream()
        .filter(b -> batch.estimates.containsKey(b.getMetadata().getName()))
        .toList();
  }

  private void warn(
      String ns, List<Budget> budgets, String transition, String reason, String message) {
    LOG.warn("{}: {} ({})", ns, message, reason);
    for (HasMetadata b : budgets) {
      events.warning(b, transition, reason, message);
    }
  }

  @Override
  public void close() {
    closed = true;
    timer.shutdownNow();
  }
}
