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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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

  /**
   * How long the watermark of a reporter that ended (its final report) is kept: a resend of that
   * report (its reply lost) or the spool a restarted container delivers arrive within seconds to a
   * few minutes (the kubelet's restart back-off is at most 5 min).
   */
  static final Duration FORGET_ENDED_AFTER = Duration.ofMinutes(10);

  /**
   * How long the watermark of a reporter that went silent without a final report is kept (crash,
   * eviction, a sidecar cut off from the operator). A sidecar cut off for longer that then resends
   * a report that was applied but whose reply it never got has it applied twice: a documented gap,
   * the price of a ledger that does not keep every pod of the last day.
   */
  static final Duration FORGET_SILENT_AFTER = Duration.ofHours(1);

  // keeps the ledger ConfigMap far below its size limit with a thousand sidecars
  private static final int MAX_TARGETS_PER_REPORTER = 8;

  /** The Budgets of a namespace (informer cache or API), and its rendered configuration. */
  public interface BudgetDirectory {
    List<Budget> budgets(String namespace);

    /** The version of the namespace's rendered sidecar configuration, or null. */
    default String configVersion(String namespace) {
      return null;
    }

    /**
     * The SHA-256 of the text of the namespace's rendered sidecar configuration, from the
     * operator's own render, or null when there is none.
     */
    default String configSha256(String namespace) {
      return null;
    }

    /** The ProviderCredentials of the namespace, whose limits the sidecars share. */
    default List<ProviderCredential> credentials(String namespace) {
      return List.of();
    }

    /**
     * USD per budget of the namespace held for provider batches that have not ended (their
     * estimates): allowances leave it out, and replies count it as used.
     */
    default Map<String, BigDecimal> held(String namespace) {
      return Map.of();
    }
  }

  /**
   * The tier of the lines the operator's batch meter applies for an ended provider batch: their
   * spend is also counted in the budget's {@code batchSpent}, their models marked {@link
   * #BATCH_MARK} in {@code byModel}, and they say nothing about target health.
   */
  public static final String BATCH_TIER = "_batch";

  /** Appended to a model's key in a budget's {@code byModel} for its batch spend. */
  public static final String BATCH_MARK = " (batch)";

  /** Called after a namespace's ledger changed, e.g. to reconcile its Budgets soon. */
  public interface Listener {
    void applied(String namespace);

    /**
     * The namespace's ledger would exceed the safe size and was not written: its reports are
     * refused (the sidecars keep their usage and resend it) until it shrinks.
     */
    default void tooLarge(String namespace, String message) {}
  }

  private record Pending(UsageReport report, CompletableFuture<ReportReply> reply) {}

  /** When a namespace's ledger is next written, and whether a budget of it is near its limit. */
  private static final class Cadence {
    volatile long nextFoldNanos;
    volatile boolean nearLimit = true; // until the first write says otherwise
    // per Budget, the alert thresholds its spend has crossed, as of the last batch (status and
    // Events show a crossing: the ledger is written at once when one happens)
    volatile List<Integer> crossed = List.of();
  }

  /**
   * A budget at or above this share of its limit weighs {@link #NEAR_LIMIT_WEIGHT} times as much as
   * the others in the split of the write budget (its status is fresher), and its sidecars report at
   * their own interval. Replies do not depend on the ledger writes: they come from the ledger in
   * memory once their journal batch is stored.
   */
  static final BigDecimal NEAR_LIMIT_PERCENT = BigDecimal.valueOf(80);

  /** The share of the write budget of a namespace near a limit, against 1 for the others. */
  static final int NEAR_LIMIT_WEIGHT = 4;

  /**
   * The longest a namespace's ledger goes unwritten while its journal grows (far from any limit):
   * status shows usage this late at most.
   */
  static final Duration MAX_FOLD_INTERVAL = Duration.ofSeconds(10);

  private final LedgerStore store;
  private final BudgetDirectory directory;
  private final Clock clock;
  private final Duration flushInterval;
  private final Duration grantTtl;
  private final Listener listener;
  private final long writeBudgetBytesPerSecond;
  private final ConcurrentHashMap<String, ConcurrentLinkedQueue<Pending>> queues =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Cadence> cadences = new ConcurrentHashMap<>();
  private final Set<String> flushing = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<String, Long> ledgerBytes = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Long> lastWrite = new ConcurrentHashMap<>();
  // the committed ledger of each namespace, touched only by the worker flushing that namespace
  private final ConcurrentHashMap<String, Live> lives = new ConcurrentHashMap<>();
  // live sidecars per namespace as of its last write: their sum paces the reports
  private final ConcurrentHashMap<String, Integer> liveSidecars = new ConcurrentHashMap<>();
  // their sum, kept current per batch: a batch's pacing costs the same whatever the namespaces
  private final java.util.concurrent.atomic.AtomicLong liveTotal =
      new java.util.concurrent.atomic.AtomicLong();
  // ledger writes by what made them due: the pace (or a crossing), the journal ring filling up
  private final java.util.concurrent.atomic.AtomicLong pacedFolds =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong ringFolds =
      new java.util.concurrent.atomic.AtomicLong();
  private final ScheduledExecutorService timer;
  private final ExecutorService workers;
  // ledger writes (folds), off the workers so that batches do not wait behind them
  private final ExecutorService folders;

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
    this(store, directory, clock, flushInterval, grantTtl, listener, DEFAULT_WRITE_BUDGET);
  }

  /**
   * Namespaces whose batches are written at the same time: each worker mostly waits for one API
   * write (a few milliseconds on a real API server), so this is about how many round trips may be
   * in flight, not about cores.
   */
  static final int WORKERS = 32;

  /** The longest a report waits for the next journal batch to start. */
  static final long GROUP_WINDOW_MILLIS = 50;

  /**
   * Bytes a second the operator aims to write at most, all namespaces together: the journal's
   * batches (written as they come) and the ledgers (paced to what the journal leaves, at least a
   * quarter of this).
   */
  public static final long DEFAULT_WRITE_BUDGET = 512 * 1024;

  /**
   * @param writeBudgetBytesPerSecond the ledger bytes a second to aim for across all namespaces: a
   *     namespace far from its limits is written no more often than its share of this allows
   *     (between the flush interval and {@link #MAX_FLUSH_INTERVAL})
   */
  public Accounting(
      LedgerStore store,
      BudgetDirectory directory,
      Clock clock,
      Duration flushInterval,
      Duration grantTtl,
      Listener listener,
      long writeBudgetBytesPerSecond) {
    this.store = store;
    this.directory = directory;
    this.clock = clock;
    this.flushInterval = flushInterval;
    this.grantTtl = grantTtl;
    this.listener = listener;
    this.writeBudgetBytesPerSecond = writeBudgetBytesPerSecond;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "tollgate-accounting-timer");
              t.setDaemon(true);
              return t;
            });
    // Namespaces are independent ledgers: each is applied on one worker at a time (its reports in
    // order), different namespaces in parallel. Most of a flush waits for the API server (one
    // conditional write per batch): with many namespaces a batch would otherwise wait for a
    // worker behind the others' round trips, so the pool is sized for waiting, not for the cores.
    AtomicInteger n = new AtomicInteger();
    this.workers =
        Executors.newFixedThreadPool(
            Math.max(WORKERS, 2 * Runtime.getRuntime().availableProcessors()),
            r -> {
              Thread t = new Thread(r, "tollgate-accounting-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    // the group-commit window: reports arriving within one tick share one journal batch
    AtomicInteger f = new AtomicInteger();
    this.folders =
        Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()),
            r -> {
              Thread t = new Thread(r, "tollgate-accounting-fold-" + f.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    long tick = Math.max(10, Math.min(GROUP_WINDOW_MILLIS, flushInterval.toMillis() / 5));
    timer.scheduleWithFixedDelay(this::flushDue, tick, tick, TimeUnit.MILLISECONDS);
  }

  /** Queues a report for the next journal batch; completes once it is durably applied. */
  public CompletableFuture<ReportReply> submit(UsageReport report) {
    CompletableFuture<ReportReply> reply = new CompletableFuture<>();
    queues
        .computeIfAbsent(report.namespace(), ns -> new ConcurrentLinkedQueue<>())
        .add(new Pending(report, reply));
    return reply;
  }

  /** The most reports one journal batch carries; the rest go in the next one right after. */
  static final int MAX_BATCH = 500;

  /**
   * Batches committed but not yet folded into the ledger: the journal's slots ({@link
   * LedgerStore#journalSlots}). A batch is written only into a slot whose batch is folded; when
   * none is free the ledger is written first, and reports are refused (503) while it cannot be.
   */
  private int maxUnfolded() {
    return store.journalSlots();
  }

  /**
   * From this many unfolded batches the ledger is written at once, whatever its pace, so that the
   * journal's slots do not run out (a report would then wait for that write).
   */
  private int foldEarlyAt() {
    return Math.max(1, store.journalSlots() / 2);
  }

  /** Whether the namespace's ledger is due to be written (folded). */
  private boolean foldDue(Live live, Cadence cadence) {
    return live.unfolded() && (System.nanoTime() - cadence.nextFoldNanos >= 0 || ringFilling(live));
  }

  /**
   * Whether half the journal's slots hold batches not folded yet: the ledger is written at once.
   */
  private boolean ringFilling(Live live) {
    return live.head.index() - live.folded >= foldEarlyAt();
  }

  /**
   * Ledger writes so far: {@code [paced, forced]}, those due by the namespace's pace (or a budget
   * crossing a threshold) and those forced by its journal ring filling up (half its slots
   * unfolded).
   */
  public long[] folds() {
    return new long[] {pacedFolds.get(), ringFolds.get()};
  }

  private void flushDue() {
    long now = System.nanoTime();
    measureJournal(now);
    Set<String> due = new java.util.HashSet<>();
    for (Map.Entry<String, ConcurrentLinkedQueue<Pending>> e : queues.entrySet()) {
      if (!e.getValue().isEmpty()) {
        due.add(e.getKey()); // a waiting report is committed at once: never paced
      }
    }
    for (Map.Entry<String, Live> e : lives.entrySet()) {
      Cadence cadence = cadences.computeIfAbsent(e.getKey(), ns -> new Cadence());
      if (foldDue(e.getValue(), cadence)) {
        due.add(e.getKey());
      }
    }
    for (String namespace : due) {
      Cadence cadence = cadences.computeIfAbsent(namespace, ns -> new Cadence());
      if (!flushing.add(namespace)) {
        continue;
      }
      ConcurrentLinkedQueue<Pending> queue =
          queues.computeIfAbsent(namespace, ns -> new ConcurrentLinkedQueue<>());
      try {
        workers.execute(() -> flushNamespace(namespace, queue, cadence));
      } catch (java.util.concurrent.RejectedExecutionException stopped) {
        flushing.remove(namespace);
      }
    }
  }

  private void flushNamespace(
      String namespace, ConcurrentLinkedQueue<Pending> queue, Cadence cadence) {
    try {
      List<Pending> batch = new ArrayList<>();
      Pending p;
      while (batch.size() < MAX_BATCH && (p = queue.poll()) != null) {
        batch.add(p);
      }
      if (!batch.isEmpty()) {
        flush(namespace, batch, cadence);
      }
      Live live = lives.get(namespace);
      if (live != null && foldDue(live, cadence) && !live.folding) {
        (ringFilling(live) ? ringFolds : pacedFolds).incrementAndGet();
        fold(namespace, live, cadence, true);
      }
    } catch (RuntimeException e) {
      LOG.warn("cannot write the spend ledger of namespace {}: {}", namespace, e.toString());
      lives.remove(namespace);
    } finally {
      flushing.remove(namespace);
    }
  }

  /**
   * The pause before a namespace's ledger is next written (its journal folded in): as long as it
   * takes this namespace's share of the write budget to pay for its ledger's size, between a base
   * (the flush interval near a limit, else at least {@link #MIN_FOLD_INTERVAL}) and {@link
   * #MAX_FOLD_INTERVAL}. The namespaces written within {@link #ACTIVE_WITHIN} share the budget, one
   * near a limit with {@link #NEAR_LIMIT_WEIGHT} times the weight of the others: writes stay within
   * the budget whatever the budgets' state (up to the 10 s cap), and status is fresher where it
   * matters. Reports do not wait for it: they are acknowledged once their journal batch is stored.
   */
  Duration nextInterval(String namespace, Cadence cadence) {
    long now = System.nanoTime();
    Duration base =
        cadence.nearLimit || flushInterval.compareTo(MIN_FOLD_INTERVAL) >= 0
            ? flushInterval
            : MIN_FOLD_INTERVAL;
    int own = cadence.nearLimit ? NEAR_LIMIT_WEIGHT : 1;
    // the namespaces written lately share the budget; an idle namespace does not take a share
    long weights = own;
    for (Map.Entry<String, Long> e : lastWrite.entrySet()) {
      if (!e.getKey().equals(namespace) && now - e.getValue() < ACTIVE_WITHIN.toNanos()) {
        Cadence other = cadences.get(e.getKey());
        weights += other != null && other.nearLimit ? NEAR_LIMIT_WEIGHT : 1;
      }
    }
    return pace(
        ledgerBytes.getOrDefault(namespace, 0L),
        (double) weights / own,
        ledgerBudget(writeBudgetBytesPerSecond, journalBytesPerSecond),
        base);
  }

  // journal bytes a second, all namespaces, measured on the timer thread about once a second
  private volatile long journalBytesPerSecond;
  private long journalBytesSeen;
  private long journalSeenNanos = System.nanoTime();

  /** Updates {@link #journalBytesPerSecond} from the store's count (timer thread). */
  private void measureJournal(long now) {
    long elapsed = now - journalSeenNanos;
    if (elapsed < TimeUnit.SECONDS.toNanos(1)) {
      return;
    }
    long bytes = store.journalBytesWritten();
    long rate = (bytes - journalBytesSeen) * 1_000_000_000L / elapsed;
    // smoothed over a few seconds: a burst of batches does not swing the ledgers' pace
    journalBytesPerSecond = (journalBytesPerSecond + rate) / 2;
    journalBytesSeen = bytes;
    journalSeenNanos = now;
  }

  /**
   * The ledger bytes a second the namespaces share: the write budget less what the journal writes
   * (every batch is written at once, the ledgers can wait), at least a quarter of the budget.
   */
  static long ledgerBudget(long budgetBytesPerSecond, long journalBytesPerSecond) {
    return Math.max(budgetBytesPerSecond / 4, budgetBytesPerSecond - journalBytesPerSecond);
  }

  /** The shortest pause between two writes of a ledger far from any limit. */
  static final Duration MIN_FOLD_INTERVAL = Duration.ofSeconds(1);

  /** A namespace counts as active for the write budget while written within this. */
  static final Duration ACTIVE_WITHIN = Duration.ofMinutes(1);

  /**
   * How long a ledger of {@code bytes} waits between writes so that it takes one of {@code shares}
   * equal shares of {@code budgetBytesPerSecond} (e.g. one of that many active namespaces'
   * ledgers): between {@code base} and {@link #MAX_FOLD_INTERVAL}.
   */
  static Duration pace(long bytes, double shares, long budgetBytesPerSecond, Duration base) {
    long millis = (long) (bytes * 1000.0 * Math.max(1, shares) / Math.max(1, budgetBytesPerSecond));
    return Duration.ofMillis(
        Math.max(base.toMillis(), Math.min(MAX_FOLD_INTERVAL.toMillis(), millis)));
  }

  /** A namespace's ledger as committed: the stored one with its journal replayed. */
  private static final class Live {
    final SpendLedger ledger;
    // written by the fold in flight, read by the namespace's worker
    volatile String ledgerVersion;
    volatile long folded;
    volatile boolean folding;
    LedgerStore.Head head;

    Live(SpendLedger ledger, String ledgerVersion, long folded, LedgerStore.Head head) {
      this.ledger = ledger;
      this.ledgerVersion = ledgerVersion;
      this.folded = folded;
      this.head = head;
    }

    boolean unfolded() {
      return head.index() > folded;
    }
  }

  private Live load(String namespace, List<Budget> budgets, List<ProviderCredential> credentials) {
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      LedgerStore.Versioned read = store.load(namespace);
      long folded = read.ledger().journal == null ? 0 : read.ledger().journal;
      LedgerStore.Journal journal;
      try {
        journal = store.journal(namespace, folded);
      } catch (LedgerStore.MissingBatchException folding) {
        continue; // another writer folded meanwhile: read the newer ledger
      }
      for (LedgerStore.Batch b : journal.batches()) {
        for (LedgerStore.Entry e : b.entries()) {
          replay(read.ledger(), e, budgets, credentials, b.at(), grantTtl);
        }
      }
      return new Live(read.ledger(), read.version(), folded, journal.head());
    }
    throw new IllegalStateException(
        "the spend journal of namespace " + namespace + " kept changing while it was read");
  }

  /**
   * Re-applies a committed report (once: above its watermark) and restores its reporter as the
   * batch left it, so allowances and shares are those the reply gave.
   */
  static void replay(
      SpendLedger ledger,
      LedgerStore.Entry entry,
      List<Budget> budgets,
      List<ProviderCredential> credentials,
      Instant at,
      Duration ttl) {
    UsageReport report = entry.report();
    apply(ledger, report, budgets, credentials, at, ttl);
    if (entry.reporter() != null) {
      ledger.reporters.put(report.podUid() + "/" + report.bootId(), entry.reporter());
    }
  }

  private void flush(String namespace, List<Pending> batch, Cadence cadence) {
    try {
      List<Budget> budgets = directory.budgets(namespace);
      String configVersion = directory.configVersion(namespace);
      String configSha256 = directory.configSha256(namespace);
      List<ProviderCredential> credentials = directory.credentials(namespace);
      for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        Live live = lives.get(namespace);
        if (live == null) {
          live = load(namespace, budgets, credentials);
          lives.put(namespace, live);
        }
        if (live.head.index() - live.folded >= maxUnfolded()) {
          // every slot holds a batch not folded yet: the ledger must be written first
          awaitFold(live);
          fold(namespace, live, cadence);
          if (lives.get(namespace) != live || live.head.index() - live.folded >= maxUnfolded()) {
            throw new IllegalStateException(
                "the spend ledger of namespace "
                    + namespace
                    + " cannot be written and its journal is full");
          }
        }
        Instant now = clock.instant();
        List<ReportReply> applied = new ArrayList<>();
        List<LedgerStore.Entry> entries = new ArrayList<>();
        Roster roster = Roster.of(live.ledger, now, grantTtl);
        roster.held.putAll(directory.held(namespace));
        for (Pending p : batch) {
          UsageReport r = p.report();
          applied.add(apply(live.ledger, r, budgets, credentials, now, grantTtl, roster));
          entries.add(
              new LedgerStore.Entry(
                  withoutTargets(r), live.ledger.reporters.get(r.podUid() + "/" + r.bootId())));
        }
        boolean near = nearLimit(live.ledger, budgets);
        List<Integer> crossed = crossed(live.ledger, budgets);
        int liveCount = roster.others();
        Long interval = reportInterval(liveElsewhere(namespace) + liveCount, near);
        LedgerStore.Head head;
        try {
          head =
              store.append(
                  namespace,
                  live.head,
                  new LedgerStore.Batch(live.head.index() + 1, now, entries, live.folded));
        } catch (RuntimeException e) {
          lives.remove(namespace); // applied in memory, not stored
          throw e;
        }
        if (head != null) {
          live.head = head;
          Integer before = liveSidecars.put(namespace, liveCount);
          liveTotal.addAndGet(liveCount - (before == null ? 0 : before));
          if ((near && !cadence.nearLimit) || !crossed.equals(cadence.crossed)) {
            // a budget got near its limit or crossed an alert threshold (or a period rolled
            // over): status and its Events show it at once; the pace starts again from this write
            cadence.nextFoldNanos = System.nanoTime();
          }
          cadence.nearLimit = near;
          cadence.crossed = crossed;
          for (int i = 0; i < batch.size(); i++) {
            ReportReply r = applied.get(i);
            batch
                .get(i)
                .reply()
                .complete(
                    new ReportReply(
                        r.acknowledgedSequence(),
                        configVersion,
                        r.budgets(),
                        r.credentialShares(),
                        interval,
                        configSha256));
          }
          return;
        }
        lives.remove(namespace);
        LOG.debug(
            "spend journal of {} changed underneath (attempt {}), re-applying", namespace, attempt);
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

  /**
   * The report without its target snapshot (the reporter recorded next to it holds that) and
   * without admitted batches (the batch meter stored them before the report was acknowledged).
   */
  private static UsageReport withoutTargets(UsageReport r) {
    return r.targets().isEmpty() ? r : r.toBuilder().targets(null).batches(null).build();
  }

  /**
   * Writes the namespace's ledger with its journal folded in (their slots may then be reused). A
   * ledger too large is compacted once; if still too large it is not written ({@link
   * Listener#tooLarge}), and reports go on being acknowledged from the journal until {@link
   * #maxUnfolded} batches wait.
   */
  private void fold(String namespace, Live live, Cadence cadence) {
    fold(namespace, live, cadence, false);
  }

  /**
   * Prepares the ledger as of the journal's head on the namespace's worker (a consistent copy),
   * then writes it, on {@link #folders} when {@code async} so the next batches do not wait for it.
   */
  private void fold(String namespace, Live live, Cadence cadence, boolean async) {
    if (live.folding) {
      return;
    }
    long through = live.head.index();
    Instant now = clock.instant();
    forgetOldReporters(live.ledger, now);
    Long before = live.ledger.journal;
    live.ledger.journal = through;
    byte[] prepared;
    try {
      try {
        prepared = store.prepare(namespace, live.ledger);
      } catch (ConfigMapLedgerStore.LedgerTooLargeException tooLarge) {
        // shed what only status displays, never a watermark or a total, and try once more
        compact(live.ledger);
        prepared = store.prepare(namespace, live.ledger);
      }
    } catch (ConfigMapLedgerStore.LedgerTooLargeException still) {
      live.ledger.journal = before;
      cadence.nextFoldNanos = System.nanoTime() + MAX_FOLD_INTERVAL.toNanos();
      listener.tooLarge(namespace, still.getMessage());
      return;
    }
    live.folding = true;
    ledgerBytes.put(namespace, (long) prepared.length); // the pace is for the size now written
    cadence.nextFoldNanos = System.nanoTime() + nextInterval(namespace, cadence).toNanos();
    String base = live.ledgerVersion;
    byte[] bytes = prepared;
    Runnable write =
        () -> {
          try {
            String version = store.write(namespace, bytes, base);
            if (version == null) {
              lives.remove(namespace, live); // another writer: load again before the next batch
              return;
            }
            live.ledgerVersion = version;
            live.folded = through;
            ledgerBytes.put(namespace, (long) bytes.length);
            lastWrite.put(namespace, System.nanoTime());
            store.retire(namespace, through); // slots of an earlier, larger ring: once
            listener.applied(namespace);
          } catch (RuntimeException e) {
            LOG.warn("cannot write the spend ledger of namespace {}: {}", namespace, e.toString());
            lives.remove(namespace, live);
          } finally {
            live.folding = false;
          }
        };
    if (async) {
      try {
        folders.execute(write);
      } catch (java.util.concurrent.RejectedExecutionException stopped) {
        live.folding = false;
      }
    } else {
      write.run();
    }
  }

  /** Waits (a few seconds at most) for the ledger write in flight of {@code live} to end. */
  private static void awaitFold(Live live) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (live.folding && System.nanoTime() - deadline < 0) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Below this many live sidecars (all namespaces) the sidecars report at their own interval. */
  static final int PACED_ABOVE = 500;

  /** The interval the pacing starts from: the sidecars' default. */
  static final Duration BASE_REPORT_INTERVAL = Duration.ofSeconds(2);

  /** The longest interval asked for: well inside the liveness TTL (30 s). */
  static final Duration MAX_REPORT_INTERVAL = Duration.ofSeconds(10);

  /**
   * The report interval to ask the sidecars for, or null for their own. With {@code live} sidecars
   * beyond {@link #PACED_ABOVE}, {@code 2 s × sqrt(live / 500)}, at most 10 s: reports a second
   * grow as the square root of the sidecars ({@code 10,000} sidecars send about 1,100 a second
   * instead of 5,000). Near a limit a namespace gets its sidecars' own interval back: allowances
   * there are small and fresh replies matter. The budget overshoot bound does not depend on the
   * interval (a sidecar never spends beyond its allowance and reports at once when it runs out);
   * per-caller quotas and new pods' rate shares wait up to one interval longer (see the README).
   */
  static Long reportInterval(long live, boolean nearLimit) {
    if (nearLimit || live <= PACED_ABOVE) {
      return null;
    }
    double factor = Math.sqrt((double) live / PACED_ABOVE);
    return Math.min(
        MAX_REPORT_INTERVAL.toMillis(), Math.round(BASE_REPORT_INTERVAL.toMillis() * factor));
  }

  private long liveElsewhere(String namespace) {
    return Math.max(0, liveTotal.get() - liveSidecars.getOrDefault(namespace, 0));
  }

  /** Callers a budget keeps per period when its ledger had to be compacted. */
  static final int COMPACT_CALLERS = 100;

  /**
   * Drops what only status displays when a ledger would be too large to write: the sidecars' target
   * snapshots (circuit states and TTFT in status until their next reports) and the smallest callers
   * of each budget beyond {@link #COMPACT_CALLERS} (folded into {@code _other}). Watermarks,
   * allowances, shares and totals stay: exactly-once and the budgets do not depend on the size.
   */
  static void compact(SpendLedger ledger) {
    for (SpendLedger.Reporter r : ledger.reporters.values()) {
      r.targets = new ArrayList<>();
    }
    for (SpendLedger.BudgetSpend b : ledger.budgets.values()) {
      CallerAccounting.cap(b.byCaller, COMPACT_CALLERS);
    }
    AttributionAccounting.compact(ledger);
  }

  /** Per Budget (in order), how many of its alert thresholds (and 100 %) its spend has crossed. */
  static List<Integer> crossed(SpendLedger ledger, List<Budget> budgets) {
    List<Integer> out = new ArrayList<>(budgets.size());
    for (Budget b : budgets) {
      SpendLedger.BudgetSpend spend = ledger.budgets.get(b.getMetadata().getName());
      if (spend == null || b.getSpec() == null || b.getSpec().getLimit() == null) {
        out.add(0);
        continue;
      }
      BigDecimal limit = new BigDecimal(b.getSpec().getLimit());
      BigDecimal spent = spend.spentUsd();
      out.add(
          BudgetPeriods.crossed(spent, limit, BudgetPeriods.alerts(b.getSpec())).size()
              + (spent.compareTo(limit) >= 0 ? 1 : 0));
    }
    return out;
  }

  /** Whether a budget of the ledger is at or above {@link #NEAR_LIMIT_PERCENT} of its limit. */
  static boolean nearLimit(SpendLedger ledger, List<Budget> budgets) {
    for (Budget b : budgets) {
      SpendLedger.BudgetSpend spend = ledger.budgets.get(b.getMetadata().getName());
      if (spend == null || b.getSpec() == null || b.getSpec().getLimit() == null) {
        continue;
      }
      BigDecimal percent =
          BudgetPeriods.percent(spend.spentUsd(), new BigDecimal(b.getSpec().getLimit()));
      if (percent.compareTo(NEAR_LIMIT_PERCENT) >= 0) {
        return true;
      }
    }
    return false;
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
    return apply(ledger, report, budgets, credentials, now, ttl, Roster.of(ledger, now, ttl));
  }

  /**
   * The live sidecars of a ledger and the allowances they hold per budget, at one instant: counted
   * once per batch and kept up to date report by report, so a report costs the same whatever the
   * number of sidecars (instead of a pass over all of them per report and budget).
   */
  static final class Roster {
    private final Instant now;
    private final Duration ttl;
    private int live;
    private final Map<String, BigDecimal> granted = new java.util.HashMap<>();
    // held for provider batches still running, per budget
    private final Map<String, BigDecimal> held = new java.util.HashMap<>();

    private Roster(Instant now, Duration ttl) {
      this.now = now;
      this.ttl = ttl;
    }

    static Roster of(SpendLedger ledger, Instant now, Duration ttl) {
      Roster r = new Roster(now, ttl);
      for (SpendLedger.Reporter x : ledger.reporters.values()) {
        r.join(x);
      }
      return r;
    }

    /** Counts {@code x} (if live) in. */
    void join(SpendLedger.Reporter x) {
      if (x.live(now, ttl)) {
        live++;
        x.grants.forEach((b, g) -> granted.merge(b, new BigDecimal(g), BigDecimal::add));
      }
    }

    /** Counts {@code x} (if live) out, before it changes. */
    void leave(SpendLedger.Reporter x) {
      if (x.live(now, ttl)) {
        live--;
        x.grants.forEach((b, g) -> granted.merge(b, new BigDecimal(g).negate(), BigDecimal::add));
      }
    }

    /** Live sidecars other than one counted out. */
    int others() {
      return live;
    }

    /** Allowances of {@code budget} the live sidecars hold, but one counted out. */
    BigDecimal granted(String budget) {
      return granted.getOrDefault(budget, BigDecimal.ZERO);
    }
  }

  static ReportReply apply(
      SpendLedger ledger,
      UsageReport report,
      List<Budget> budgets,
      List<ProviderCredential> credentials,
      Instant now,
      Duration ttl,
      Roster roster) {
    String key = report.podUid() + "/" + report.bootId();
    SpendLedger.Reporter reporter =
        ledger.reporters.computeIfAbsent(key, k -> new SpendLedger.Reporter());
    roster.leave(reporter);
    try {
      return applyCounted(ledger, report, budgets, credentials, now, ttl, roster, key, reporter);
    } finally {
      roster.join(reporter);
    }
  }

  private static ReportReply applyCounted(
      SpendLedger ledger,
      UsageReport report,
      List<Budget> budgets,
      List<ProviderCredential> credentials,
      Instant now,
      Duration ttl,
      Roster roster,
      String key,
      SpendLedger.Reporter reporter) {
    reporter.namespaceAndPod = report.namespace() + "/" + report.pod();
    reporter.lastSeen = now.truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString();
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
        if (!BATCH_TIER.equals(line.tier())) {
          addHealth(ledger, reporter, line, now);
        }
        Budget budget = find(budgets, line.budget());
        if (budget != null) {
          addBudget(ledger, budget, line, now);
        }
      }
      CallerAccounting.fold(ledger, budgets, report, now);
      AttributionAccounting.fold(ledger, budgets, report, now);
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
          CallerAccounting.withCallers(grant(ledger, reporter, b, now, roster), ledger, b, report));
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
    for (Map.Entry<String, UsageReport.EndpointUsage> e : line.byEndpoint().entrySet()) {
      SpendLedger.EndpointItem item =
          u.byEndpoint.computeIfAbsent(e.getKey(), k -> new SpendLedger.EndpointItem());
      item.requests += e.getValue().requests();
      item.inputTokens += e.getValue().inputTokens();
      item.outputTokens += e.getValue().outputTokens();
      item.spent =
          new BigDecimal(item.spent).add(new BigDecimal(e.getValue().costUsd())).toPlainString();
    }
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
      SpendLedger ledger, SpendLedger.Reporter reporter, UsageReport.Line line, Instant now) {
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
    reporter.called.put(line.credential() + "/" + line.model(), minute);
    reporter.called.values().removeIf(m -> m <= minute - HEALTH_MINUTES);
    if (lastKind != null) {
      h.lastError = lastKind;
      h.lastErrorTime = now.toString();
    }
    h.minutes.keySet().removeIf(m -> m <= minute - HEALTH_MINUTES);
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
    boolean batch = BATCH_TIER.equals(line.tier());
    spend
        .byModel
        .computeIfAbsent(
            line.credential() + "/" + line.model() + (batch ? BATCH_MARK : ""),
            m -> new SpendLedger.Item())
        .add(cost, line.requests());
    if (batch) {
      spend.batchSpent =
          new BigDecimal(spend.batchSpent == null ? "0" : spend.batchSpent)
              .add(cost)
              .toPlainString();
    }
    for (Map.Entry<String, UsageReport.EndpointUsage> e : line.byEndpoint().entrySet()) {
      spend
          .byEndpoint
          .computeIfAbsent(e.getKey(), k -> new SpendLedger.Item())
          .add(new BigDecimal(e.getValue().costUsd()), e.getValue().requests());
    }
  }

  private static BigDecimal cost(UsageReport.Line line) {
    return line.costUsd() == null ? BigDecimal.ZERO : new BigDecimal(line.costUsd());
  }

  private static ReportReply.BudgetState grant(
      SpendLedger ledger,
      SpendLedger.Reporter reporter,
      Budget budget,
      Instant now,
      Roster roster) {
    String name = budget.getMetadata().getName();
    BudgetSpec spec = budget.getSpec();
    SpendLedger.BudgetSpend spend =
        ledger.budgets.computeIfAbsent(name, n -> new SpendLedger.BudgetSpend());
    BudgetPeriods.roll(spend, spec.getPeriod(), now);
    BigDecimal limit = new BigDecimal(spec.getLimit());
    BigDecimal spent = spend.spentUsd();
    // running batches' estimates are as good as spent for what is left to grant
    BigDecimal held = roster.held.getOrDefault(name, BigDecimal.ZERO);
    BigDecimal remaining = limit.subtract(spent).subtract(held).max(BigDecimal.ZERO);
    // the other live sidecars and what they hold (this one is counted out of the roster)
    BigDecimal others = roster.granted(name);
    int live = 1 + roster.others();
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
        BudgetPeriods.percent(spent.add(held), limit).toPlainString());
  }

  static void forgetOldReporters(SpendLedger ledger, Instant now) {
    // a watermark is kept as long as a resend of an applied report can still arrive
    ledger
        .reporters
        .values()
        .removeIf(
            r ->
                r.lastSeen == null
                    || !r.seen()
                        .plus(
                            Boolean.TRUE.equals(r.ended) ? FORGET_ENDED_AFTER : FORGET_SILENT_AFTER)
                        .isAfter(now));
  }

  /**
   * Stops; the ledgers of namespaces whose journal is not folded yet are written first (within a
   * few seconds; what is not written is replayed by the next operator from the journal).
   */
  @Override
  public void close() {
    timer.shutdownNow();
    workers.shutdown();
    try {
      workers.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    workers.shutdownNow();
    folders.shutdown();
    try {
      folders.awaitTermination(3, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    folders.shutdownNow();
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    for (Map.Entry<String, Live> e : lives.entrySet()) {
      if (System.nanoTime() - deadline > 0 || Thread.currentThread().isInterrupted()) {
        break;
      }
      if (e.getValue().unfolded() && !flushing.contains(e.getKey())) {
        try {
          fold(e.getKey(), e.getValue(), cadences.computeIfAbsent(e.getKey(), ns -> new Cadence()));
        } catch (RuntimeException failed) {
          LOG.debug("ledger of {} not written on close: {}", e.getKey(), failed.toString());
        }
      }
    }
  }
}
