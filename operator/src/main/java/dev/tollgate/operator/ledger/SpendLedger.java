package dev.tollgate.operator.ledger;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The accounting state of one namespace, persisted in an operator-owned ConfigMap so it survives
 * operator restarts and failover: spend per Budget and period, route usage, and per reporter (pod
 * UID + boot id) the last applied sequence and the allowance it holds. Statuses are projections of
 * this object. Money is kept as exact decimal strings.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class SpendLedger {
  public Map<String, BudgetSpend> budgets = new TreeMap<>();
  public Map<String, RouteUsage> routes = new TreeMap<>();
  public Map<String, Reporter> reporters = new TreeMap<>();

  /** Per {@code credential/model}: calls and provider errors per UTC minute, the last 5 minutes. */
  public Map<String, TargetHealth> health = new TreeMap<>();

  /**
   * The index of the last journal batch this object includes ({@link LedgerStore}); the batches
   * after it are replayed on load. Null (0) for a ledger written before the journal.
   */
  public Long journal;

  /** Spend of one Budget in its current period, and the totals of the last few periods. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static final class BudgetSpend {
    public String periodStart;
    public String periodEnd;
    public String spent = "0";
    public Map<String, Item> byRoute = new TreeMap<>();
    public Map<String, Item> byModel = new TreeMap<>();

    /**
     * Spend by endpoint kind ({@code UsageReport.EndpointUsage.KINDS}, at most 7 keys); absent from
     * ledgers written before it.
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public Map<String, Item> byEndpoint = new TreeMap<>();

    public List<PeriodTotal> history = new ArrayList<>();

    /**
     * Spend per caller key this period, for Budgets with per-caller quotas; at most {@link
     * CallerAccounting#MAX_CALLERS} keys, smaller spenders folded into {@code _other}.
     */
    public Map<String, Item> byCaller = new TreeMap<>();

    /**
     * The part of {@code spent} that ended provider batches cost this period (operator-metered,
     * {@code tier} {@link Accounting#BATCH_TIER}); null when none.
     */
    public String batchSpent;

    /**
     * Spend per end user, feature tag and workload this period ({@link AttributionAccounting}),
     * bounded, smaller spenders folded into {@code _other}.
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public Map<String, Item> byUser = new TreeMap<>();

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public Map<String, Item> byFeature = new TreeMap<>();

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public Map<String, Item> byWorkload = new TreeMap<>();

    public BigDecimal spentUsd() {
      return new BigDecimal(spent);
    }
  }

  /** Spend and requests of one route or model. */
  public static final class Item {
    public String spent = "0";
    public long requests;

    void add(BigDecimal cost, long n) {
      spent = new BigDecimal(spent).add(cost).toPlainString();
      requests += n;
    }
  }

  /** A finished period. */
  public record PeriodTotal(String periodStart, String periodEnd, String spent) {}

  /** Usage of one route (by model name) in the current UTC calendar month, for LLMRoute status. */
  public static final class RouteUsage {
    public String periodStart;
    public long requests;
    public long inputTokens;
    public long outputTokens;
    public long cacheReadTokens;
    public long cacheWriteTokens;
    public String spent = "0";
    public long failovers;
    public long errors;

    /** Calls answered from the response cache (not in {@code requests}: no provider call). */
    public long cacheHits;

    public long savedInputTokens;
    public long savedOutputTokens;

    /** USD the cache hits did not spend, exact decimal string. */
    public String saved = "0";

    /** Requests per target, {@code credential/model}. */
    public Map<String, Long> targets = new TreeMap<>();

    /**
     * The same usage by endpoint kind ({@code UsageReport.EndpointUsage.KINDS}, at most 7 keys);
     * absent from ledgers written before it and for routes without such reports.
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public Map<String, EndpointItem> byEndpoint = new TreeMap<>();

    /**
     * Spend per end user, feature tag and workload this month ({@link AttributionAccounting}),
     * bounded, smaller spenders folded into {@code _other}.
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public Map<String, Item> byUser = new TreeMap<>();

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public Map<String, Item> byFeature = new TreeMap<>();

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public Map<String, Item> byWorkload = new TreeMap<>();
  }

  /** Calls of one endpoint kind on a route: requests, tokens and exact spend. */
  public static final class EndpointItem {
    public long requests;
    public long inputTokens;
    public long outputTokens;
    public String spent = "0";
  }

  /** Recent calls and provider-side errors of one credential/model, by minute. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static final class TargetHealth {
    /** Epoch minute → [calls, provider errors]. */
    public Map<Long, long[]> minutes = new TreeMap<>();

    public String lastError;
    public String lastErrorTime;
  }

  /**
   * One sidecar process: the last sequence applied for it, when it last reported, and per budget
   * the allowance granted in the last reply (still outstanding until its next report).
   */
  public static final class Reporter {
    public String namespaceAndPod;
    public long sequence;

    /** The sidecar configuration version it said it runs. */
    public String configVersion;

    public String lastSeen;

    public Map<String, String> grants = new TreeMap<>();

    /** It sent its last report (the process ended): not live, nothing granted or shared. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public Boolean ended;

    /**
     * Its targets' health as of its last report: circuit state, TTFT percentiles. Only targets with
     * recent calls or a circuit that is not closed.
     */
    public List<dev.tollgate.sidecar.config.report.UsageReport.TargetState> targets =
        new ArrayList<>();

    /**
     * Per {@code credential/model}, the epoch minute of its last report with calls to it: who
     * counts as a reporting pod in a credential's health (kept here, with the reporter, so that the
     * health section holds no pod names and nothing per pod).
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public Map<String, Long> called = new TreeMap<>();

    @com.fasterxml.jackson.annotation.JsonIgnore private String parsedSeen;
    @com.fasterxml.jackson.annotation.JsonIgnore private java.time.Instant seenAt;

    /**
     * {@code lastSeen} parsed (once per value: liveness is asked for every reporter per report).
     */
    public java.time.Instant seen() {
      if (lastSeen == null) {
        return null;
      }
      if (lastSeen != parsedSeen) {
        seenAt = java.time.Instant.parse(lastSeen);
        parsedSeen = lastSeen;
      }
      return seenAt;
    }

    /** Live: reported within {@code ttl} and has not ended. */
    public boolean live(java.time.Instant now, java.time.Duration ttl) {
      return !Boolean.TRUE.equals(ended) && lastSeen != null && seen().plus(ttl).isAfter(now);
    }

    /** Per ProviderCredential, the share of its rate limits granted in the last reply. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public Map<String, RateShare> rateShares = new TreeMap<>();
  }

  /** A sidecar's share of one credential's limits; null where the credential sets no limit. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static final class RateShare {
    public Long requestsPerMinute;
    public Long tokensPerMinute;
  }
}
