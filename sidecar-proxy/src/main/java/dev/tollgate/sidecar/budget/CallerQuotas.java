package dev.tollgate.sidecar.budget;

import dev.tollgate.sidecar.config.BudgetConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Per-caller quotas of Budgets with {@code perCaller}: meters each caller's spend for the reports,
 * and refuses the calls of a caller whose quota is spent.
 *
 * <p>A caller is refused when the operator's last reply lists it as over its quota (spend of every
 * sidecar of the namespace), or when its spend as this sidecar knows it reaches the limit: the
 * period's spend the operator last told us for it (in a reply to a report that carried the caller,
 * within the current budget period), plus what this sidecar spent on it since that report. A caller
 * this sidecar crosses the limit for locally also makes the reporter send a report at once, so that
 * the other sidecars learn about it within a group commit and their next report.
 *
 * <p>Bounded memory: at most {@link #MAX_TRACKED} (budget, caller) pairs are metered between two
 * reports (later new callers go into {@link UsageReport.CallerSpend#OTHER}, which is never
 * limited), and a report carries at most {@link UsageReport.CallerSpend#MAX_PER_BUDGET} callers per
 * budget (the biggest spenders; the rest summed into the same bucket).
 */
public final class CallerQuotas {
  /** Distinct (budget, caller) pairs metered between two reports. */
  public static final int MAX_TRACKED = 10_000;

  /** A caller of a budget, as identified for one call; null when the call names no caller. */
  public record Caller(String budget, String key, BigDecimal limit, BudgetConfig.Period period) {
    /** A caller of a monthly budget. */
    public Caller(String budget, String key, BigDecimal limit) {
      this(budget, key, limit, BudgetConfig.Period.MONTHLY);
    }
  }

  private record Id(String budget, String key) {}

  /** A caller's period spend as the operator last told it, and when. */
  private record Known(BigDecimal spent, Instant learned) {}

  private static final class Spend {
    long requests;
    BigDecimal cost = BigDecimal.ZERO;
  }

  // all guarded by this; the work under the lock is a map operation or two per call
  private Map<Id, Spend> pending = new HashMap<>();
  private Map<Id, Spend> unreported = new HashMap<>();
  private Map<Id, Known> known = new HashMap<>();
  private Set<Id> blocked = Set.of();
  private volatile Runnable onCrossed = () -> {};
  private final Clock clock;

  public CallerQuotas() {
    this(Clock.systemUTC());
  }

  /** With the clock that tells which budget period it is (tests). */
  public CallerQuotas(Clock clock) {
    this.clock = clock;
  }

  /**
   * The caller of a call on a route of {@code budget}, or null when the budget has no per-caller
   * quota or the call does not name a caller.
   */
  public static Caller callerOf(SidecarConfig cfg, String budget, HeaderLookup headers) {
    if (budget == null) {
      return null;
    }
    BudgetConfig b = cfg.budget(budget).orElse(null);
    if (b == null || b.perCaller() == null) {
      return null;
    }
    String key =
        CallerKeys.of(b.perCaller(), cfg.namespace(), budget, headers.get(b.perCaller().header()));
    return key == null ? null : new Caller(budget, key, b.perCaller().limit(), b.period());
  }

  /** Reads a request header by name. */
  @FunctionalInterface
  public interface HeaderLookup {
    String get(String name);
  }

  /** Called when a caller's spend crosses its limit on this sidecar (to report at once). */
  void onCrossed(Runnable r) {
    onCrossed = r;
  }

  /**
   * Refuses the call when {@code caller} has spent its quota.
   *
   * @throws ProxyException BUDGET_EXCEEDED (HTTP 429 in the caller's format)
   */
  public void admit(Caller caller, String namespace, String route) {
    if (caller == null) {
      return;
    }
    Id id = new Id(caller.budget(), caller.key());
    boolean byOperator;
    boolean locally;
    synchronized (this) {
      byOperator = blocked.contains(id);
      locally = !byOperator && estimate(id, caller).compareTo(caller.limit()) >= 0;
    }
    if (!byOperator && !locally) {
      return;
    }
    if (locally) {
      onCrossed.run();
    }
    throw new ProxyException(
        ErrorKind.BUDGET_EXCEEDED,
        "caller "
            + caller.key()
            + " has spent its quota of "
            + caller.limit().toPlainString()
            + " USD for this period of budget "
            + caller.budget()
            + " of namespace "
            + namespace
            + "; its calls to route "
            + route
            + " are refused until the period ends or the quota is raised");
  }

  /** Meters a finished call's cost against its caller. */
  public void record(Caller caller, BigDecimal cost) {
    if (caller == null) {
      return;
    }
    BigDecimal usd = cost == null ? BigDecimal.ZERO : cost;
    boolean crossed;
    synchronized (this) {
      Id id = new Id(caller.budget(), caller.key());
      if (!pending.containsKey(id) && pending.size() >= MAX_TRACKED) {
        id = new Id(caller.budget(), UsageReport.CallerSpend.OTHER);
      }
      Spend s = pending.computeIfAbsent(id, k -> new Spend());
      s.requests++;
      s.cost = s.cost.add(usd);
      crossed =
          !id.key().equals(UsageReport.CallerSpend.OTHER)
              && usd.signum() > 0
              && !blocked.contains(id)
              && estimate(id, caller).compareTo(caller.limit()) >= 0
              && estimate(id, caller).subtract(usd).compareTo(caller.limit()) < 0;
    }
    if (crossed) {
      onCrossed.run();
    }
  }

  /**
   * Takes the spend metered since the last report into a new report: per budget the biggest
   * spenders, the rest summed into {@link UsageReport.CallerSpend#OTHER}. The spend stays counted
   * locally until the reply to that report arrives ({@link #update}).
   */
  public synchronized List<UsageReport.CallerSpend> drain() {
    Map<Id, Spend> taken = pending;
    pending = new HashMap<>();
    unreported.putAll(taken);
    Map<String, List<Map.Entry<Id, Spend>>> byBudget = new HashMap<>();
    for (Map.Entry<Id, Spend> e : taken.entrySet()) {
      byBudget.computeIfAbsent(e.getKey().budget(), b -> new ArrayList<>()).add(e);
    }
    List<UsageReport.CallerSpend> out = new ArrayList<>();
    byBudget.keySet().stream()
        .sorted()
        .forEach(
            budget -> {
              List<Map.Entry<Id, Spend>> entries = byBudget.get(budget);
              entries.sort(
                  Comparator.comparing((Map.Entry<Id, Spend> e) -> e.getValue().cost)
                      .reversed()
                      .thenComparing(e -> e.getKey().key()));
              long otherRequests = 0;
              BigDecimal otherCost = BigDecimal.ZERO;
              int kept = 0;
              for (Map.Entry<Id, Spend> e : entries) {
                boolean other = e.getKey().key().equals(UsageReport.CallerSpend.OTHER);
                if (!other && kept < UsageReport.CallerSpend.MAX_PER_BUDGET) {
                  kept++;
                  out.add(
                      new UsageReport.CallerSpend(
                          budget,
                          e.getKey().key(),
                          e.getValue().requests,
                          e.getValue().cost.toPlainString()));
                } else {
                  otherRequests += e.getValue().requests;
                  otherCost = otherCost.add(e.getValue().cost);
                }
              }
              if (otherRequests > 0) {
                out.add(
                    new UsageReport.CallerSpend(
                        budget,
                        UsageReport.CallerSpend.OTHER,
                        otherRequests,
                        otherCost.toPlainString()));
              }
            });
    return out;
  }

  /**
   * Takes the per-caller state of the reply to the last report: who is over quota in the namespace,
   * and the period's spend of the callers that report carried (which now includes it). Totals of
   * callers the report did not carry are kept: they are still a lower bound of the caller's spend
   * in the period they were learned in.
   */
  public synchronized void update(ReportReply reply) {
    Instant now = clock.instant();
    Map<Id, Known> fresh = new HashMap<>();
    Set<Id> b = new HashSet<>();
    for (ReportReply.BudgetState s : reply.budgets()) {
      s.blockedCallers().forEach(c -> b.add(new Id(s.name(), c)));
      s.callers()
          .forEach(
              c ->
                  fresh.put(
                      new Id(s.name(), c.caller()), new Known(new BigDecimal(c.spentUsd()), now)));
    }
    if (known.size() + fresh.size() > MAX_TRACKED) {
      known = new HashMap<>(); // bounded: forget the older totals rather than grow
    }
    known.putAll(fresh);
    blocked = b;
    unreported = new HashMap<>();
  }

  /** This period's spend of {@code id} as far as this sidecar knows; call holding the lock. */
  private BigDecimal estimate(Id id, Caller caller) {
    Known k = known.get(id);
    BigDecimal e =
        k == null || k.learned().isBefore(periodStart(caller.period(), clock.instant()))
            ? BigDecimal.ZERO
            : k.spent();
    Spend u = unreported.get(id);
    if (u != null) {
      e = e.add(u.cost);
    }
    Spend p = pending.get(id);
    if (p != null) {
      e = e.add(p.cost);
    }
    return e;
  }

  /** Start of the UTC budget period containing {@code now} (weeks from Monday). */
  static Instant periodStart(BudgetConfig.Period period, Instant now) {
    LocalDate day = now.atZone(ZoneOffset.UTC).toLocalDate();
    LocalDate start =
        switch (period == null ? BudgetConfig.Period.MONTHLY : period) {
          case DAILY -> day;
          case WEEKLY -> day.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
          case MONTHLY -> day.withDayOfMonth(1);
        };
    return start.atStartOfDay(ZoneOffset.UTC).toInstant();
  }
}
