package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import lombok.Data;
import lombok.NoArgsConstructor;

/** Observed state of a {@link Budget}: spend in the current period and where it went. */
@Data
@NoArgsConstructor
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class BudgetStatus {
  private Long observedGeneration;
  private List<Condition> conditions = new ArrayList<>();

  /** RFC 3339 UTC. */
  private String periodStart;

  /** RFC 3339 UTC, exclusive. */
  private String periodEnd;

  /** USD, decimal strings. */
  private String spent;

  private String remaining;

  /** Spent over limit, in percent. */
  private String percentUsed;

  private Phase phase;

  /**
   * USD of {@code spent} that ended provider batches cost this period, at batch prices (metered by
   * the operator when each batch ends); their models appear in {@code byModel} as {@code
   * <credential>/<model> (batch)}.
   */
  private String batchSpent;

  /** Linear projection of spend at period end from the period so far. */
  private String projected;

  /** Thresholds (percent) already announced this period. */
  private List<Integer> alertsFired = new ArrayList<>();

  private List<SpendItem> byRoute = new ArrayList<>();
  private List<SpendItem> byModel = new ArrayList<>();

  /**
   * Spend and requests this period by endpoint kind (chat, responses, embeddings, completions,
   * count_tokens, passthrough, other), as LLMRoute status.usage.byEndpoint.
   */
  private List<SpendItem> byEndpoint = new ArrayList<>();

  /**
   * Biggest callers this period when spec.perCaller is set (at most 10, keys hashed when
   * spec.perCaller.hashKeys is true).
   */
  private List<SpendItem> topCallers = new ArrayList<>();

  /**
   * Callers whose spend this period reached spec.perCaller.limit, refused by the sidecars (keys as
   * in topCallers); each is announced once per period with a CallerQuotaExceeded Event.
   */
  private List<String> callersOverQuota = new ArrayList<>();

  /**
   * Biggest end users this period (at most 10; the user header, OpenAI {@code user} or Anthropic
   * {@code metadata.user_id}; pseudonymised {@code sha256:...} unless a short id). Unlike
   * topCallers these need no perCaller quota and are not enforced.
   */
  private List<SpendItem> topUsers = new ArrayList<>();

  /** Biggest feature tags this period (at most 10). */
  private List<SpendItem> topFeatures = new ArrayList<>();

  /**
   * Spend and requests by the workload the calling pods belong to, {@code Kind/name} (at most 10),
   * resolved by the injection webhook with no app change.
   */
  private List<SpendItem> byWorkload = new ArrayList<>();

  /** Totals of the last few periods. */
  private List<PeriodTotal> history = new ArrayList<>();

  /** Budget phase. */
  public enum Phase {
    @JsonProperty("Ok")
    OK,
    @JsonProperty("Warning")
    WARNING,
    @JsonProperty("Exceeded")
    EXCEEDED
  }

  /** Spend of one route, model or caller. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SpendItem {
    private String name;
    private String spent;
    private Long requests;
  }

  /** A finished period. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class PeriodTotal {
    private String periodStart;
    private String periodEnd;
    private String spent;
  }
}
