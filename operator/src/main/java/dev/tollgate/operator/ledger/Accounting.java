package dev.tollgate.operator.ledger;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies sidecar reports to the namespaces' {@link SpendLedger}s exactly once and answers them
 * with live budget state.
 *
 * <p>Reports are group-committed: those arriving within one flush interval are applied together in
 * one read-modify-write of the ledger (conditional on its resourceVersion), so 100 sidecars
 * reporting every 2 s cost a namespace at most one ledger write per flush interval. A report is
 * acknowledged only after the write that applied it succeeded; the (pod UID, boot id) watermark is
 * written in the same object, so a retried report, an operator restart or a second replica can
 * never apply a sequence twice.
 *
 * <p>Allowances: each reply grants the reporting sidecar a share of the budget's remaining amount
 * not already granted to other live sidecars: {@code (limit - spent - sum of others' outstanding
 * grants) / (live sidecars + 1)}; the extra share keeps something unreserved for a sidecar that
 * starts. Grants are stored in the ledger next to the watermark. A sidecar stops admitting calls on
 * that budget once its spend since its last report reaches its grant, so the sum of outstanding
 * grants never exceeds what remains and total spend can pass the limit only by the cost of calls
 * already in flight when their sidecar's grant ran out.
 */
public final class Accounting implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Accounting.class);
  private static final int MAX_ATTEMPTS = 8;
  private static final Duration FORGET_REPORTERS_AFTER = Duration.ofHours(24);
  // keeps the ledger ConfigMap far below 1 MiB with hundreds of sidecars
  private static final int MAX_TARGETS_PER_REPORTER = 32;

  /** The Budgets of a namespace (informer cache or API), and its rendered configuration. */
  public interface BudgetDirectory {
    List<Budget> budgets(String namespace);

    /** The version of the namespace's rendered sidecar configuration, or null. */
    default String configVersion(String namespace) {
      return null;
    }

    /** The ProviderCredentials of the namespace, whose limits the sidecars share. */
    default List<ProviderCredential> credentials(String namespace) {
      return List.of();
    }
  }

  /** Called after a namespace's ledger changed, e.g. to reconcile its Budgets soon. */
  public interface Listener {
    void applied(String namespace);
  }

  private record Pending(UsageReport report, CompletableFuture<ReportReply> reply) {}

  private final LedgerStore store;
  private final BudgetDirectory directory;
  private final Clock clock;
  private final Duration grantTtl;
  private final Listener listener;
  private final ConcurrentHashMap<String, ConcurrentLinkedQueue<Pending>> queues =
      new ConcurrentHashMap<>();
  private final ScheduledExecutorService flusher;

  /**
   * @param flushInterval how long reports gather before one ledger write applies them
   * @param grantTtl a sidecar that has not reported for this long no longer counts as live and its
   *     grant is released
   */
  public Accounting(
      LedgerStore store,
      BudgetDirectory directory,
      Clock clock,
      Duration flushInterval,
      Duration grantTtl,
      Listener listener) {
    this.store = store;
    this.directory = directory;
    this.clock = clock;
    this.grantTtl = grantTtl;
    this.listener = listener;
    this.flusher =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "tollgate-accounting");
              t.setDaemon(true);
              return t;
            });
    flusher.scheduleWithFixedDelay(
        this::flushAll, flushInterval.toMillis(), flushInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Queues a report for the next ledger write; completes once it is durably applied. */
  public CompletableFuture<ReportReply> submit(UsageReport report) {
    CompletableFuture<ReportReply> reply = new CompletableFuture<>();
    queues
        .computeIfAbsent(report.namespace(), ns -> new ConcurrentLinkedQueue<>())
        .add(new Pending(report, reply));
    return reply;
  }

  private void flushAll() {
    for (Map.Entry<String, ConcurrentLinkedQueue<Pending>> e : queues.entrySet()) {
      List<Pending> batch = new ArrayList<>();
      Pending p;
      while ((p = e.getValue().poll()) != null) {
        batch.add(p);
      }
      if (!batch.isEmpty()) {
        flush(e.getKey(), batch);
      }
    }
  }

  private void flush(String namespace, List<Pending> batch) {
    try {
      List<Budget> budgets = directory.budgets(namespace);
      String configVersion = directory.configVersion(namespace);
      List<ProviderCredential> credentials = directory.credentials(namespace);
      for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        LedgerStore.Versioned read = store.load(namespace);
        Instant now = clock.instant();
        List<ReportReply> replies = new ArrayList<>();
        for (Pending p : batch) {
          ReportReply r = apply(read.ledger(), p.report(), budgets, credentials, now, grantTtl);
          replies.add(
              new ReportReply(
                  r.acknowledgedSequence(), configVersion, r.budgets(), r.credentialShares()));
        }
        forgetOldReporters(read.ledger(), now);
        if (store.save(namespace, read.ledger(), read.version())) {
          for (int i = 0; i < batch.size(); i++) {
            batch.get(i).reply().complete(replies.get(i));
          }
          listener.applied(namespace);
          return;
        }
        LOG.debug(
            "spend ledger of {} changed underneath (attempt {}), re-applying", namespace, attempt);
      }
      throw new IllegalStateException(
          "the spend ledger of namespace "
              + namespace
              + " kept changing during "
              + MAX_ATTEMPTS
              + " attempts");
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot apply {} report(s) of namespace {}: {}", batch.size(), namespace, e.toString());
      batch.forEach(p -> p.reply().completeExceptionally(e));
    }
  }

  /** Applies one report unless its sequence was applied before, then grants an allowance. */
  static ReportReply apply(
      SpendLedger ledger, UsageReport report, List<Budget> budgets, Instant now, Duration ttl) {
    return apply(ledger, report, budgets, List.of(), now, ttl);
  }

  /**
   * Applies one report unless its sequence was applied before, then grants an allowance of every
   * budget and a share of every limited credential ({@link RateShares}).
   */
  static ReportReply apply(
      SpendLedger ledger,
      UsageReport report,
      List<Budget> budgets,
      List<ProviderCredential> credentials,
      Instant now,
      Duration ttl) {
    String key = report.podUid() + "/" + report.bootId();
    SpendLedger.Reporter reporter =
        ledger.reporters.computeIfAbsent(key, k -> new SpendLedger.Reporter());
    reporter.namespaceAndPod = report.namespace() + "/" + report.pod();
    reporter.lastSeen = now.toString();
    reporter.configVersion = report.configVersion();
    if (report.last()) {
      // the process has ended (its final report, or one a restarted container delivers for it):
      // it holds nothing any more, and its health is no longer current
      reporter.ended = true;
      reporter.targets = new ArrayList<>();
    } else if (report.sequence() >= reporter.sequence) {
      reporter.targets =
          report.targets().stream()
              .filter(t -> t.calls() > 0 || !"Closed".equals(t.circuit()))
              .limit(MAX_TARGETS_PER_REPORTER)
              .toList();
    }
    if (report.sequence() > reporter.sequence) {
      reporter.sequence = report.sequence();
      for (UsageReport.Line line : report.lines()) {
        addRoute(ledger, line, now);
        addHealth(ledger, report.pod(), line, now);
        Budget budget = find(budgets, line.budget());
        if (budget != null) {
          addBudget(ledger, budget, line, now);
        }
      }
      CallerAccounting.fold(ledger, budgets, report, now);
    }
    List<ReportReply.BudgetState> states = new ArrayList<>();
    if (Boolean.TRUE.equals(reporter.ended)) {
      // its allowances and credential shares are free for the others at once
      reporter.grants.clear();
      reporter.rateShares = new java.util.TreeMap<>();
      return new ReportReply(reporter.sequence, null, states);
    }
    for (Budget b : budgets) {
      states.add(
          CallerAccounting.withCallers(
              grant(ledger, key, reporter, b, now, ttl), ledger, b, report));
    }
    return new ReportReply(
        reporter.sequence, null, states, RateShares.grant(ledger, key, credentials, now, ttl));
  }

  private static Budget find(List<Budget> budgets, String name) {
    if (name == null) {
      return null;
    }
    return budgets.stream()
        .filter(b -> b.getMetadata().getName().equals(name))
        .findFirst()
        .orElse(null);
  }

  private static void addRoute(SpendLedger ledger, UsageReport.Line line, Instant now) {
    String month = BudgetPeriods.periodAt(BudgetSpec.Period.MONTHLY, now).start().toString();
    SpendLedger.RouteUsage u =
        ledger.routes.computeIfAbsent(line.route(), r -> new SpendLedger.RouteUsage());
    if (!month.equals(u.periodStart)) {
      u = new SpendLedger.RouteUsage();
      u.periodStart = month;
      ledger.routes.put(line.route(), u);
    }
    u.requests += line.requests();
    u.inputTokens += line.inputTokens();
    u.outputTokens += line.outputTokens();
    u.cacheReadTokens += line.cacheReadTokens();
    u.cacheWriteTokens += line.cacheWriteTokens();
    u.spent = new BigDecimal(u.spent).add(cost(line)).toPlainString();
    u.failovers += line.failovers();
    u.errors += line.errors().values().stream().mapToLong(Long::longValue).sum();
    u.targets.merge(line.credential() + "/" + line.model(), line.requests(), Long::sum);
    u.cacheHits += line.cacheHits();
    u.savedInputTokens += line.savedInputTokens();
    u.savedOutputTokens += line.savedOutputTokens();
    if (line.savedCostUsd() != null) {
      u.saved =
          new BigDecimal(u.saved == null ? "0" : u.saved)
              .add(new BigDecimal(line.savedCostUsd()))
              .toPlainString();
    }
  }

  /**
   * Error kinds that say something about the provider account (not the caller, not the budget): the
   * provider's own errors, and {@code missing_credential}, an account the sidecar cannot present
   * (its key file is missing, or its cloud identity is denied or expired).
   */
  private static boolean providerError(String kind) {
    return (kind.startsWith("upstream_") && !kind.equals("upstream_rejected"))
        || kind.equals("missing_credential");
  }

  private static void addHealth(
      SpendLedger ledger, String pod, UsageReport.Line line, Instant now) {
    if (line.credential() == null || line.model() == null) {
      return;
    }
    if (line.requests() == 0 && line.failedAttempts().isEmpty()) {
      return; // only cache hits: the provider was not asked
    }
    long minute = now.getEpochSecond() / 60;
    SpendLedger.TargetHealth h =
        ledger.health.computeIfAbsent(
            line.credential() + "/" + line.model(), k -> new SpendLedger.TargetHealth());
    long errors = 0;
    long attempts = line.requests();
    String lastKind = null;
    for (Map.Entry<String, Long> e : line.errors().entrySet()) {
      if (providerError(e.getKey())) {
        errors += e.getValue();
        lastKind = e.getKey();
      }
    }
    // Attempts that failed before the call moved on: the caller did not see them, the provider
    // still failed them. They count as calls to the provider and, when the provider's fault, as
    // errors.
    for (Map.Entry<String, Long> e : line.failedAttempts().entrySet()) {
      attempts += e.getValue();
      if (providerError(e.getKey())) {
        errors += e.getValue();
        lastKind = e.getKey();
      }
    }
    long[] counts = h.minutes.computeIfAbsent(minute, m -> new long[2]);
    counts[0] += attempts;
    counts[1] += errors;
    h.pods.computeIfAbsent(minute, m -> new java.util.TreeSet<>()).add(String.valueOf(pod));
    if (lastKind != null) {
      h.lastError = lastKind;
      h.lastErrorTime = now.toString();
    }
    h.minutes.keySet().removeIf(m -> m <= minute - HEALTH_MINUTES);
    h.pods.keySet().removeIf(m -> m <= minute - HEALTH_MINUTES);
  }

  /** How many minutes health looks back. */
  public static final int HEALTH_MINUTES = 5;

  private static void addBudget(
      SpendLedger ledger, Budget budget, UsageReport.Line line, Instant now) {
    SpendLedger.BudgetSpend spend =
        ledger.budgets.computeIfAbsent(
            budget.getMetadata().getName(), n -> new SpendLedger.BudgetSpend());
    BudgetPeriods.roll(spend, budget.getSpec().getPeriod(), now);
    BigDecimal cost = cost(line);
    spend.spent = spend.spentUsd().add(cost).toPlainString();
    spend
        .byRoute
        .computeIfAbsent(line.route(), r -> new SpendLedger.Item())
        .add(cost, line.requests());
    spend
        .byModel
        .computeIfAbsent(line.credential() + "/" + line.model(), m -> new SpendLedger.Item())
        .add(cost, line.requests());
  }

  private static BigDecimal cost(UsageReport.Line line) {
    return line.costUsd() == null ? BigDecimal.ZERO : new BigDecimal(line.costUsd());
  }

  private static ReportReply.BudgetState grant(
      SpendLedger ledger,
      String key,
      SpendLedger.Reporter reporter,
      Budget budget,
      Instant now,
      Duration ttl) {
    String name = budget.getMetadata().getName();
    BudgetSpec spec = budget.getSpec();
    SpendLedger.BudgetSpend spend =
        ledger.budgets.computeIfAbsent(name, n -> new SpendLedger.BudgetSpend());
    BudgetPeriods.roll(spend, spec.getPeriod(), now);
    BigDecimal limit = new BigDecimal(spec.getLimit());
    BigDecimal spent = spend.spentUsd();
    BigDecimal remaining = limit.subtract(spent).max(BigDecimal.ZERO);
    BigDecimal others = BigDecimal.ZERO;
    int live = 1;
    for (Map.Entry<String, SpendLedger.Reporter> e : ledger.reporters.entrySet()) {
      SpendLedger.Reporter other = e.getValue();
      if (e.getKey().equals(key) || !other.live(now, ttl)) {
        continue;
      }
      live++;
      String g = other.grants.get(name);
      if (g != null) {
        others = others.add(new BigDecimal(g));
      }
    }
    BigDecimal allowance =
        remaining
            .subtract(others)
            .max(BigDecimal.ZERO)
            // one share more than there are live sidecars stays unreserved, so that a sidecar
            // that starts (or comes back) always gets a share at once
            .divide(BigDecimal.valueOf(live + 1L), 6, RoundingMode.DOWN);
    reporter.grants.put(name, allowance.toPlainString());
    String action =
        spec.getOnExceeded() == null
            ? "Block"
            : switch (spec.getOnExceeded()) {
              case BLOCK -> "Block";
              case DOWNGRADE -> "Downgrade";
              case ALERT_ONLY -> "AlertOnly";
            };
    String phase =
        switch (BudgetPeriods.phase(spent, limit, BudgetPeriods.alerts(spec))) {
          case OK -> "Ok";
          case WARNING -> "Warning";
          case EXCEEDED -> "Exceeded";
        };
    return new ReportReply.BudgetState(
        name,
        phase,
        action,
        allowance.toPlainString(),
        BudgetPeriods.percent(spent, limit).toPlainString());
  }

  private static void forgetOldReporters(SpendLedger ledger, Instant now) {
    // an ended reporter's watermark is kept as long as any other: a late resend must stay a no-op
    ledger
        .reporters
        .values()
        .removeIf(
            r ->
                r.lastSeen == null
                    || !Instant.parse(r.lastSeen).plus(FORGET_REPORTERS_AFTER).isAfter(now));
  }

  @Override
  public void close() {
    flusher.shutdownNow();
  }
}
