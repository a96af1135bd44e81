package dev.tollgate.sidecar.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.sidecar.budget.BudgetGate;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.metering.AttributedSpend;
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
 * over). Reports are built every interval whatever the operator's state, and each is in the spool
 * as soon as it is built: while the operator is away they queue up (in memory and on disk) and go
 * out oldest first when it answers. The queue is bounded: beyond {@link #MAX_PENDING} reports the
 * oldest ones not yet sent are folded into one aggregate report ({@link ReportMerge}), counted and
 * logged, never dropped. On close a final report carries what is left.
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

  /** Reports not yet acknowledged, oldest first; only the first may have reached the operator. */
  private final List<Pending> pending = new ArrayList<>();

  /** The pod's workload as the webhook resolved it (its environment), or null. */
  private volatile UsageReport.Workload workload;

  private long compacted;
  private int failuresInARow;
  // refused reports (issue #16): 400 splits or sets aside, 403 backs off, 429 waits Retry-After
  private long notBefore = System.nanoTime();
  private int forbiddenInARow;
  private long lastRefusalLog = System.nanoTime() - REFUSAL_LOG_INTERVAL.toNanos();
  private String refusal;
  private volatile java.util.function.IntConsumer onRefused = status -> {};
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

  /** Names {@code w} (null: none) as the workload of every report from now on. */
  public Reporter withWorkload(UsageReport.Workload w) {
    this.workload = w;
    return this;
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

  /** Counts each refusal by HTTP status (400, 403, 429): {@code tollgate_reports_refused_total}. */
  public Reporter withRefusalCounter(java.util.function.IntConsumer counter) {
    this.onRefused = counter;
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
      return timer.submit(this::reportOnce).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
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

  /** At most this many reports wait for the operator; older ones are folded together beyond. */
  static final int MAX_PENDING = 120;

  /** A built report and the budget marks it was built with (for the reply's allowances). */
  private record Pending(UsageReport report, Map<String, BigDecimal> marks) {}

  /**
   * Builds the next report (when there is new usage, or nothing is pending: an empty report still
   * fetches the budget state), then sends the pending ones oldest first; true when all were
   * acknowledged.
   */
  private boolean reportOnce() {
    // built every interval, even while backing off: usage is spooled as it is metered
    build(pending.isEmpty());
    if (System.nanoTime() - notBefore < 0) {
      return false; // backing off after a 403, or as a 429's Retry-After asked
    }
    deliverLeftovers();
    return sendPending();
  }

  /** Sends pending reports in sequence order, stopping at the first that does not go through. */
  private boolean sendPending() {
    while (!pending.isEmpty()) {
      Pending p = pending.get(0);
      Delivery d = send(p.report(), p.marks(), true);
      if (d == Delivery.REFUSED) {
        refused();
        return false;
      }
      if (d != Delivery.ACKNOWLEDGED) {
        return false;
      }
      if (spool != null) {
        spool.delete(p.report());
      }
      pending.remove(0);
    }
    return true;
  }

  /**
   * Keeps the queue within {@link #MAX_PENDING}: folds the second-oldest report into the third. The
   * oldest is left alone, because it may have reached the operator without its reply reaching us
   * (the operator would then count it again inside an aggregate); the reports after it were never
   * sent, so the aggregate, under the later one's sequence, is applied exactly once.
   */
  private void compact() {
    while (pending.size() > MAX_PENDING) {
      Pending older = pending.remove(1);
      Pending newer = pending.get(1);
      UsageReport merged = ReportMerge.merge(older.report(), newer.report());
      pending.set(1, new Pending(merged, newer.marks()));
      if (spool != null) {
        // the aggregate first, then the folded report's file: a crash in between would leave both
        // (the folded usage counted twice), never neither
        spool.save(merged);
        spool.delete(older.report());
      }
      if (compacted++ % 100 == 0) {
        LOG.warn(
            "{} reports wait for the operator: folded report {} into {} ({} folded so far; usage"
                + " is kept, only its split by interval is lost)",
            pending.size(),
            older.report().sequence(),
            merged.sequence(),
            compacted);
      }
    }
  }

  /** Reports folded into aggregates since start (logs, tests). */
  public long compacted() {
    return compacted;
  }

  /** Reports built and not yet acknowledged (tests). */
  int pendingReports() {
    return pending.size();
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
      UsageReport r = left.toBuilder().targets(null).last(true).build();
      Delivery d = send(r, null, false);
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

  static final Duration REFUSAL_LOG_INTERVAL = Duration.ofMinutes(1);
  static final Duration MAX_BACKOFF = Duration.ofMinutes(1);
  static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);

  /**
   * The operator refused the live report for good (400: a validator cap, say too many lines or
   * callers). Resending it would wedge reporting forever, so it is split in two reports under new
   * sequence numbers, sent in order before any later usage; a report that cannot be split (one line
   * or one caller) is moved aside in the spool as {@code .refused} and counted, and its usage is
   * then not in this operator's ledger (an operator upgrade that accepts it can be fed the file).
   */
  private void refused() {
    Pending refusedOne = pending.remove(0);
    UsageReport r = refusedOne.report();
    List<UsageReport> halves = split(r);
    if (spool != null) {
      if (halves.isEmpty()) {
        spool.setAside(r);
      } else {
        spool.delete(r);
      }
    }
    // the halves go first, then the reports built since, all under new sequence numbers in that
    // order (the operator applies a sequence once, in order); the later ones were never sent, so
    // renumbering them is safe
    List<Pending> later = new ArrayList<>(pending);
    pending.clear();
    for (UsageReport half : halves) {
      pending.add(renumbered(new Pending(half, refusedOne.marks())));
    }
    for (Pending p : later) {
      pending.add(renumbered(p));
    }
    if (halves.isEmpty()) {
      LOG.warn(
          "the operator refused report {} ({}); it cannot be split further and is kept{} for an"
              + " operator that accepts it; its usage is not counted meanwhile, later usage is"
              + " reported as usual",
          r.sequence(),
          refusal,
          spool == null ? " nowhere (no spool)" : " in " + spool.dir() + " as .refused");
    } else if (System.nanoTime() - lastRefusalLog > REFUSAL_LOG_INTERVAL.toNanos()) {
      lastRefusalLog = System.nanoTime();
      LOG.warn(
          "the operator refused report {} ({}); sending its usage as smaller reports (logged at"
              + " most once a minute)",
          r.sequence(),
          refusal);
    }
  }

  /**
   * {@code p} under the next sequence number, spooled (the new file first, then the old one
   * deleted: a crash in between leaves both, counted twice, never neither).
   */
  private Pending renumbered(Pending p) {
    UsageReport r = p.report();
    UsageReport next = r.toBuilder().sequence(++sequence).build();
    if (spool != null) {
      spool.save(next);
      if (r.sequence() != next.sequence()) {
        spool.delete(r);
      }
    }
    return new Pending(next, p.marks());
  }

  /**
   * Two reports holding {@code r}'s lines and callers (with {@code r}'s sequence number, to be
   * renumbered), or none when it has one or none.
   */
  private List<UsageReport> split(UsageReport r) {
    List<UsageReport.Line> lines = r.lines();
    List<UsageReport.CallerSpend> callers = r.callers();
    if (lines.size() + callers.size() <= 1) {
      return List.of();
    }
    List<UsageReport.Line> l1;
    List<UsageReport.Line> l2;
    List<UsageReport.CallerSpend> c1;
    List<UsageReport.CallerSpend> c2;
    if (lines.size() > 1) {
      l1 = lines.subList(0, lines.size() / 2);
      l2 = lines.subList(lines.size() / 2, lines.size());
      c1 = List.of();
      c2 = callers;
    } else if (callers.size() > 1) {
      l1 = lines;
      l2 = List.of();
      c1 = callers.subList(0, callers.size() / 2);
      c2 = callers.subList(callers.size() / 2, callers.size());
    } else {
      l1 = lines;
      l2 = List.of();
      c1 = List.of();
      c2 = callers;
    }
    // the admitted batches and the spend by user and feature stay whole, in the first half; both
    // halves name the workload
    return List.of(
        part(r, l1, r.targets(), c1, r.attribution()).withBatches(r.batches()),
        part(
            r, l2, List.of(), c2, r.attribution() == null ? null : r.attribution().workloadOnly()));
  }

  private UsageReport part(
      UsageReport r,
      List<UsageReport.Line> lines,
      List<UsageReport.TargetState> targets,
      List<UsageReport.CallerSpend> callers,
      UsageReport.Attribution attribution) {
    return r.toBuilder()
        .lines(lines)
        .targets(targets)
        .callers(callers)
        .batches(null)
        .attribution(attribution)
        .build();
  }

  /** 403 (a token being rotated, say): retried with a growing pause, logged once a minute. */
  private void forbidden(String why) {
    forbiddenInARow++;
    long backoff =
        Math.min(
            MAX_BACKOFF.toMillis(), intervalMillis * (1L << Math.min(16, forbiddenInARow - 1)));
    notBefore = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff);
    if (System.nanoTime() - lastRefusalLog > REFUSAL_LOG_INTERVAL.toNanos()) {
      lastRefusalLog = System.nanoTime();
      LOG.warn(
          "the operator refuses this sidecar's reports ({}); retrying every {} ms or less, keeping"
              + " the usage (logged at most once a minute)",
          why,
          backoff);
    }
  }

  /** 429: not before the reply's {@code Retry-After} (seconds; at most five minutes). */
  private void throttled(java.util.Optional<String> retryAfter) {
    long seconds = 1;
    try {
      seconds = Long.parseLong(retryAfter.orElse("1").trim());
    } catch (NumberFormatException e) {
      // an HTTP date or junk: one second
    }
    long millis = Math.min(MAX_RETRY_AFTER.toMillis(), Math.max(0, seconds) * 1000);
    notBefore = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
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

  /** The growth of each endpoint kind's usage since {@code before}: kinds with new requests. */
  static Map<String, UsageReport.EndpointUsage> endpointGrowth(
      Map<String, UsageLedger.EndpointTotals> now, Map<String, UsageLedger.EndpointTotals> before) {
    Map<String, UsageReport.EndpointUsage> out = new java.util.TreeMap<>();
    now.forEach(
        (kind, t) -> {
          UsageLedger.EndpointTotals b = before == null ? null : before.get(kind);
          long requests = t.requests() - (b == null ? 0 : b.requests());
          if (requests > 0) {
            out.put(
                kind,
                new UsageReport.EndpointUsage(
                    requests,
                    t.inputTokens() - (b == null ? 0 : b.inputTokens()),
                    t.outputTokens() - (b == null ? 0 : b.outputTokens()),
                    t.cost().subtract(b == null ? BigDecimal.ZERO : b.cost()).toPlainString()));
          }
        });
    return out;
  }

  /**
   * Builds a report of the usage since the last one and spools it; with no new usage, only when
   * {@code evenIfEmpty}.
   */
  private void build(boolean evenIfEmpty) {
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
          UsageReport.Line.builder(
                  k.route(),
                  k.tier(),
                  k.credential(),
                  k.model(),
                  cfg == null ? null : cfg.route(k.route()).map(RouteConfig::budget).orElse(null))
              .requests(requests)
              .inputTokens(t.inputTokens() - (before == null ? 0 : before.inputTokens()))
              .outputTokens(t.outputTokens() - (before == null ? 0 : before.outputTokens()))
              .cacheReadTokens(
                  t.cacheReadTokens() - (before == null ? 0 : before.cacheReadTokens()))
              .cacheWriteTokens(
                  t.cacheWriteTokens() - (before == null ? 0 : before.cacheWriteTokens()))
              .costUsd(
                  t.costUsd()
                      .subtract(before == null ? BigDecimal.ZERO : before.costUsd())
                      .toPlainString())
              .failovers(t.failovers() - (before == null ? 0 : before.failovers()))
              .errors(errors)
              .failedAttempts(failedAttempts)
              .cacheHits(hits)
              .savedInputTokens(
                  t.savedInputTokens() - (before == null ? 0 : before.savedInputTokens()))
              .savedOutputTokens(
                  t.savedOutputTokens() - (before == null ? 0 : before.savedOutputTokens()))
              .savedCostUsd(
                  t.savedCostUsd()
                      .subtract(before == null ? BigDecimal.ZERO : before.savedCostUsd())
                      .toPlainString())
              .byEndpoint(
                  endpointGrowth(t.byEndpoint(), before == null ? null : before.byEndpoint()))
              .build());
    }
    List<UsageReport.CallerSpend> callers = gate.callers().drain();
    List<UsageReport.AdmittedBatch> batches = ledger.batches().drain();
    if (lines.isEmpty() && callers.isEmpty() && batches.isEmpty() && !evenIfEmpty) {
      return;
    }
    baseline = now;
    sequence++;
    AttributedSpend.Drained spend =
        ledger
            .attributed()
            .drain(
                route ->
                    cfg == null ? null : cfg.route(route).map(RouteConfig::budget).orElse(null),
                (route, user) -> userKey(cfg, route, user));
    UsageReport.Attribution attribution =
        workload == null && spend.isEmpty()
            ? null
            : new UsageReport.Attribution(workload, spend.users(), spend.features());
    List<UsageReport.TargetState> health;
    try {
      health = targets.get();
    } catch (RuntimeException e) {
      LOG.debug("target health unavailable for this report", e);
      health = List.of();
    }
    UsageReport report =
        UsageReport.builder(
                settings.namespace(),
                settings.pod(),
                settings.podUid(),
                bootId,
                sequence,
                cfg == null ? null : cfg.version())
            .lines(lines)
            .targets(health)
            .last(finishing)
            .callers(callers)
            .batches(batches)
            .attribution(attribution)
            .build();
    pending.add(new Pending(report, marks));
    if (spool != null) {
      spool.save(report);
    }
    compact();
  }

  /**
   * The key {@code user} is reported under on {@code route}: the per-caller quota's pseudonym when
   * the route's Budget hashes caller keys ({@code perCaller.hashKeys}), else as attributed.
   */
  private String userKey(SidecarConfig cfg, String route, String user) {
    if (cfg == null) {
      return user;
    }
    dev.tollgate.sidecar.config.BudgetConfig budget =
        cfg.route(route).map(RouteConfig::budget).flatMap(cfg::budget).orElse(null);
    if (budget == null
        || budget.perCaller() == null
        || !Boolean.TRUE.equals(budget.perCaller().hashKeys())) {
      return user;
    }
    return dev.tollgate.sidecar.budget.CallerKeys.of(
        budget.perCaller(), settings.namespace(), budget.name(), user);
  }

  /**
   * Posts {@code report}; for the live report ({@code live}) the reply's state goes to the budget
   * gate, for a leftover of an earlier process only the acknowledgement matters.
   */
  private Delivery send(UsageReport report, Map<String, BigDecimal> marks, boolean live) {
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
        int code = response.statusCode();
        String why = "HTTP " + code + ": " + new String(response.body(), StandardCharsets.UTF_8);
        if (code == 400 || code == 403 || code == 413 || code == 429) {
          onRefused.accept(code);
        }
        // 413: over the operator's body limit (many lines, each with its usage by endpoint kind):
        // split like a report over a validator cap
        if (live && (code == 400 || code == 413)) {
          refusal = why;
          return Delivery.REFUSED;
        }
        if (code == 403) {
          forbidden(why);
          return Delivery.UNREACHABLE; // kept, leftovers too: the token may be being rotated
        }
        if (code == 429) {
          throttled(response.headers().firstValue("Retry-After"));
        }
        failed(why);
        return !live && code >= 400 && code < 500 && code != 401 && code != 408 && code != 429
            ? Delivery.REFUSED
            : Delivery.UNREACHABLE;
      }
      ReportReply reply = JSON.readValue(response.body(), ReportReply.class);
      if (live) {
        gate.update(reply, marks);
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
      if (failuresInARow > 0 || forbiddenInARow > 0) {
        LOG.info("reporting to {} works again", settings.url());
      }
      failuresInARow = 0;
      forbiddenInARow = 0;
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
          pending.isEmpty() ? "-" : pending.get(0).report().sequence());
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
    deliverLeftovers();
    build(false);
    boolean pendingSent = sendPending();
    while (!pendingSent && System.nanoTime() < end) {
      sleep();
      pendingSent = sendPending();
    }
    finishing = true;
    if (!pendingSent) {
      if (spool != null) {
        // keep the last usage next to the pending reports: a restarted container delivers them
        long first = pending.get(0).report().sequence();
        build(false);
        LOG.warn(
            "final report not delivered: reports {}-{} stay in {} for the next start of this"
                + " sidecar (lost if the pod is deleted)",
            first,
            sequence,
            spool.dir());
      } else {
        LOG.warn("final report not delivered: report {} and later usage are lost", sequence);
      }
      return;
    }
    // the last report (marked last: the operator releases this sidecar's allowances and credential
    // shares at once): usage metered since the one just acknowledged
    build(true);
    while (!sendPending()) {
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
