package dev.tollgate.sidecar.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.sidecar.budget.BudgetGate;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.runtime.ConfigSource;
import dev.tollgate.sidecar.wire.ErrorKind;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the operator, every interval, the usage the ledger gained since the last report, and hands
 * the reply's live state to the {@link BudgetGate}. Runs on its own thread, never on an event loop.
 *
 * <p>Exactly-once: a built report keeps its sequence number and content until the operator
 * acknowledges it, however many times it has to be resent (operator away, restarting, failing
 * over); usage metered meanwhile stays in the ledger beyond the report's baseline and goes into the
 * next report. On close a final report carries what is left.
 */
public final class Reporter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Reporter.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final ReporterSettings settings;
  private final UsageLedger ledger;
  private final ConfigSource config;
  private final BudgetGate gate;
  private final OperatorTrust trust;
  private final String bootId = UUID.randomUUID().toString();
  private final ScheduledExecutorService timer;

  // owned by the timer thread (and by close() once the timer has stopped)
  private Map<UsageLedger.Key, UsageLedger.Totals> baseline = Map.of();
  private long sequence;
  private UsageReport unacknowledged;
  private Map<String, BigDecimal> unacknowledgedMarks;
  private int failuresInARow;
  private volatile long acknowledged;
  private volatile ReportSpool spool;
  private volatile java.util.function.Supplier<List<UsageReport.TargetState>> targets = List::of;
  private final java.util.ArrayDeque<UsageReport> leftovers = new java.util.ArrayDeque<>();
  private boolean finishing;
  private final java.util.concurrent.atomic.AtomicBoolean nudged =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final List<java.util.function.Consumer<ReportReply>> replyListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  public Reporter(
      ReporterSettings settings, UsageLedger ledger, ConfigSource config, BudgetGate gate) {
    this.settings = settings;
    this.ledger = ledger;
    this.config = config;
    this.gate = gate;
    this.trust = OperatorTrust.of(settings);
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "tollgate-reporter");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Keeps unacknowledged reports in {@code s} too, and delivers the ones an earlier process of this
   * pod left there. Call before {@link #start()}.
   */
  public Reporter withSpool(ReportSpool s) {
    this.spool = s;
    List<UsageReport> left = s.leftovers(bootId, settings.podUid());
    leftovers.addAll(left);
    if (!left.isEmpty()) {
      LOG.info(
          "found {} unacknowledged report(s) of an earlier sidecar process in {}; delivering them",
          left.size(),
          s.dir());
    }
    return this;
  }

  /** Sends each target's health (circuit, error rate, TTFT percentiles) with every report. */
  public Reporter withTargetHealth(
      java.util.function.Supplier<List<dev.tollgate.sidecar.routing.TargetHealthSnapshot>> health) {
    this.targets = () -> health.get().stream().map(Reporter::targetState).toList();
    return this;
  }

  static UsageReport.TargetState targetState(dev.tollgate.sidecar.routing.TargetHealthSnapshot h) {
    return new UsageReport.TargetState(
        h.route(),
        h.tier(),
        h.credential(),
        h.model(),
        switch (h.state()) {
          case CLOSED -> "Closed";
          case OPEN -> "Open";
          case HALF_OPEN -> "HalfOpen";
        },
        h.calls(),
        h.errorRatePercent(),
        h.ttftP50Millis(),
        h.ttftP95Millis(),
        h.lastError(),
        h.lastErrorAt() == null ? null : h.lastErrorAt().toString());
  }

  public void start() {
    long ms = settings.interval().toMillis();
    intervalMillis = ms;
    // the first report goes at once: until its reply the sidecar knows no budget state, so a pod
    // starting in a namespace whose budget is spent would otherwise serve for a whole interval
    timer.execute(this::periodic);
    gate.onAllowanceSpent(this::reportSoon);
    LOG.info("reporting to {} every {} ms (boot {})", settings.url(), ms, bootId);
  }

  /** The longest interval an operator's reply can ask for. */
  static final long MAX_INTERVAL_MILLIS = 60_000;

  /**
   * The time to the next periodic report: the configured interval, or the longer one the last reply
   * asked for (an operator with many sidecars to hear from), never more than a minute.
   */
  private volatile long intervalMillis;

  /** The interval in force now (tests, logs). */
  public Duration interval() {
    return Duration.ofMillis(intervalMillis);
  }

  private void periodic() {
    reportSafely();
    try {
      timer.schedule(this::periodic, intervalMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // stopping: the final report follows
    }
  }

  private void follow(Long asked) {
    long configured = settings.interval().toMillis();
    long next =
        asked == null ? configured : Math.max(configured, Math.min(MAX_INTERVAL_MILLIS, asked));
    if (next != intervalMillis) {
      LOG.info("reporting every {} ms from now on, as the operator asks", next);
      intervalMillis = next;
    }
  }

  /** One extra report as soon as the reporter's thread is free; calls while one waits add none. */
  private void reportSoon() {
    if (nudged.compareAndSet(false, true)) {
      try {
        timer.execute(
            () -> {
              nudged.set(false);
              reportSafely();
            });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // shutting down: the final report follows
      }
    }
  }

  /**
   * Delivers everything metered so far now, on the reporter's thread, waiting up to {@code
   * timeout}; false if the operator did not acknowledge it in time (it stays queued).
   */
  public boolean flush(Duration timeout) {
    try {
      return timer
          .submit(() -> (unacknowledged == null || reportOnce()) && reportOnce())
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Hands every reply to {@code listener} too, on the reporter's thread after the budget gate took
   * it (credential shares, the configuration version). Register before {@link #start()}.
   */
  public void onReply(java.util.function.Consumer<ReportReply> listener) {
    replyListeners.add(listener);
  }

  /** The highest sequence the operator acknowledged (tests, logs). */
  public long acknowledged() {
    return acknowledged;
  }

  public String bootId() {
    return bootId;
  }

  private void reportSafely() {
    try {
      reportOnce();
    } catch (RuntimeException e) {
      LOG.warn("report failed unexpectedly", e);
    }
  }

  /** Resends the unacknowledged report, or builds the next one; true when acknowledged. */
  private boolean reportOnce() {
    deliverLeftovers();
    if (unacknowledged == null) {
      build();
    }
    boolean ok = send(unacknowledged, true) == Delivery.ACKNOWLEDGED;
    if (ok) {
      if (spool != null) {
        spool.delete(unacknowledged);
      }
      unacknowledged = null;
      unacknowledgedMarks = null;
    }
    return ok;
  }

  /**
   * Sends what an earlier process of this pod left in the spool, in sequence order, stopping at the
   * first that does not go through (a later sequence of the same boot must not overtake it). A
   * report the operator refuses outright (4xx) would never go through: it is set aside as {@code
   * .bad} with a warning rather than blocking the others.
   */
  private void deliverLeftovers() {
    while (!leftovers.isEmpty()) {
      UsageReport left = leftovers.peek();
      // that process has ended: the operator can release what it granted it at once
      UsageReport r =
          new UsageReport(
              left.namespace(),
              left.pod(),
              left.podUid(),
              left.bootId(),
              left.sequence(),
              left.configVersion(),
              left.lines(),
              List.of(),
              true,
              left.callers());
      Delivery d = send(r, false);
      if (d == Delivery.UNREACHABLE) {
        return;
      }
      if (d == Delivery.REFUSED) {
        LOG.warn(
            "the operator refused the earlier report {} of boot {}; its usage is not counted",
            r.sequence(),
            r.bootId());
      } else {
        LOG.info("delivered the earlier report {} of boot {}", r.sequence(), r.bootId());
      }
      spool.delete(left);
      leftovers.poll();
    }
  }

  private enum Delivery {
    ACKNOWLEDGED,
    REFUSED,
    UNREACHABLE
  }

  /**
   * Per-kind growth since {@code before}, by metric label; kinds that did not grow are left out.
   */
  private static Map<String, Long> growth(Map<ErrorKind, Long> now, Map<ErrorKind, Long> before) {
    Map<String, Long> out = new HashMap<>();
    now.forEach(
        (kind, n) -> {
          long d = n - (before == null ? 0 : before.getOrDefault(kind, 0L));
          if (d > 0) {
            out.put(kind.label(), d);
          }
        });
    return out;
  }

  private void build() {
    Map<String, BigDecimal> marks = gate.marks();
    Map<UsageLedger.Key, UsageLedger.Totals> now = ledger.snapshot();
    SidecarConfig cfg = config.current();
    List<UsageReport.Line> lines = new ArrayList<>();
    for (Map.Entry<UsageLedger.Key, UsageLedger.Totals> e : now.entrySet()) {
      UsageLedger.Totals before = baseline.get(e.getKey());
      UsageLedger.Totals t = e.getValue();
      long requests = t.requests() - (before == null ? 0 : before.requests());
      Map<String, Long> errors = growth(t.errors(), before == null ? null : before.errors());
      Map<String, Long> failedAttempts =
          growth(t.failedAttempts(), before == null ? null : before.failedAttempts());
      // A target that only failed (every call moved on elsewhere) still has a line: its health.
      long hits = t.cacheHits() - (before == null ? 0 : before.cacheHits());
      if (requests == 0 && failedAttempts.isEmpty() && hits == 0) {
        continue;
      }
      UsageLedger.Key k = e.getKey();
      lines.add(
          new UsageReport.Line(
              k.route(),
              k.tier(),
              k.credential(),
              k.model(),
              cfg == null ? null : cfg.route(k.route()).map(RouteConfig::budget).orElse(null),
              requests,
              t.inputTokens() - (before == null ? 0 : before.inputTokens()),
              t.outputTokens() - (before == null ? 0 : before.outputTokens()),
              t.cacheReadTokens() - (before == null ? 0 : before.cacheReadTokens()),
              t.cacheWriteTokens() - (before == null ? 0 : before.cacheWriteTokens()),
              t.costUsd()
                  .subtract(before == null ? BigDecimal.ZERO : before.costUsd())
                  .toPlainString(),
              t.failovers() - (before == null ? 0 : before.failovers()),
              errors,
              failedAttempts,
              hits,
              t.savedInputTokens() - (before == null ? 0 : before.savedInputTokens()),
              t.savedOutputTokens() - (before == null ? 0 : before.savedOutputTokens()),
              t.savedCostUsd()
                  .subtract(before == null ? BigDecimal.ZERO : before.savedCostUsd())
                  .toPlainString()));
    }
    baseline = now;
    sequence++;
    List<UsageReport.TargetState> health;
    try {
      health = targets.get();
    } catch (RuntimeException e) {
      LOG.debug("target health unavailable for this report", e);
      health = List.of();
    }
    unacknowledged =
        new UsageReport(
            settings.namespace(),
            settings.pod(),
            settings.podUid(),
            bootId,
            sequence,
            cfg == null ? null : cfg.version(),
            lines,
            health,
            finishing,
            gate.callers().drain());
    unacknowledgedMarks = marks;
    if (spool != null) {
      spool.save(unacknowledged);
    }
  }

  /**
   * Posts {@code report}; for the live report ({@code live}) the reply's state goes to the budget
   * gate, for a leftover of an earlier process only the acknowledgement matters.
   */
  private Delivery send(UsageReport report, boolean live) {
    try {
      String token = Files.readString(settings.tokenFile()).trim();
      HttpRequest request =
          HttpRequest.newBuilder(settings.url())
              .timeout(Duration.ofSeconds(5))
              .header("Authorization", "Bearer " + token)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(report)))
              .build();
      HttpResponse<byte[]> response =
          trust.client().send(request, HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() != 200) {
        failed(
            "HTTP "
                + response.statusCode()
                + ": "
                + new String(response.body(), StandardCharsets.UTF_8));
        int code = response.statusCode();
        return !live && code >= 400 && code < 500 && code != 401 && code != 408 && code != 429
            ? Delivery.REFUSED
            : Delivery.UNREACHABLE;
      }
      ReportReply reply = JSON.readValue(response.body(), ReportReply.class);
      if (live) {
        gate.update(reply, unacknowledgedMarks);
        for (java.util.function.Consumer<ReportReply> listener : replyListeners) {
          try {
            listener.accept(reply);
          } catch (RuntimeException e) {
            LOG.warn("handling the operator's reply failed: {}", e.toString());
          }
        }
        acknowledged = reply.acknowledgedSequence();
        follow(reply.reportIntervalMillis());
      }
      if (failuresInARow > 0) {
        LOG.info("reporting to {} works again", settings.url());
      }
      failuresInARow = 0;
      return Delivery.ACKNOWLEDGED;
    } catch (IOException e) {
      failed(e.toString());
      return Delivery.UNREACHABLE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Delivery.UNREACHABLE;
    }
  }

  private void failed(String why) {
    // one line when the channel breaks, then one a minute-ish: the usage is kept, not lost
    if (failuresInARow++ % 30 == 0) {
      LOG.warn(
          "cannot report to {} ({}); keeping report {} and later usage until it can",
          settings.url(),
          why,
          unacknowledged == null ? "-" : unacknowledged.sequence());
    }
  }

  /**
   * Stops the timer and sends what is left (call after the server drained its calls), trying for up
   * to {@code deadline}.
   */
  public void finish(Duration deadline) {
    timer.shutdownNow();
    try {
      timer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    long end = System.nanoTime() + deadline.toNanos();
    boolean pendingSent = unacknowledged == null || reportOnce();
    while (!pendingSent && System.nanoTime() < end) {
      sleep();
      pendingSent = reportOnce();
    }
    finishing = true;
    if (!pendingSent) {
      if (spool != null) {
        // keep the last usage next to the pending report: a restarted container delivers both
        long pending = unacknowledged.sequence();
        unacknowledged = null;
        build();
        LOG.warn(
            "final report not delivered: reports {}-{} stay in {} for the next start of this"
                + " sidecar (lost if the pod is deleted)",
            pending,
            sequence,
            spool.dir());
      } else {
        LOG.warn("final report not delivered: report {} and later usage are lost", sequence);
      }
      return;
    }
    // the last report (marked last: the operator releases this sidecar's allowances and credential
    // shares at once): usage metered since the one just acknowledged
    while (!reportOnce()) {
      if (System.nanoTime() >= end) {
        LOG.warn(
            spool != null
                ? "final report {} not delivered: it stays in the spool for the next start"
                : "final report {} not delivered: its usage is lost",
            sequence);
        return;
      }
      sleep();
    }
    LOG.info("final report {} delivered", sequence);
  }

  private static void sleep() {
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    finish(Duration.ofSeconds(5));
  }

  /** An SSL context trusting only the operator's CA. */
  static SSLContext trusting(String caPem) {
    try {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      int i = 0;
      for (Certificate c :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII)))) {
        trust.setCertificateEntry("operator-ca-" + i++, c);
      }
      if (i == 0) {
        throw new IllegalArgumentException("the operator CA PEM holds no certificate");
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("cannot read the operator CA: " + e.getMessage(), e);
    }
  }
}
