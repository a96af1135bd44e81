package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import lombok.Data;
import lombok.NoArgsConstructor;

/** Observed state of an {@link LLMRoute}: conditions, target health and share, usage. */
@Data
@NoArgsConstructor
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class LLMRouteStatus {
  private Long observedGeneration;
  private List<Condition> conditions = new ArrayList<>();

  /** Tier names in order, comma-separated, for {@code kubectl get}. */
  private String tiers;

  private List<TargetStatus> targets = new ArrayList<>();

  private RouteUsage usage;

  private SidecarRollout sidecars;

  /** Health and actual share of one target of one tier. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class TargetStatus {
    private String tier;
    private String credential;
    private String model;

    /** {@code target} or {@code fallback}. */
    private String role;

    private Health health;

    /** Circuit breaker state: Closed, Open or HalfOpen. */
    private String circuit;

    /** Share of the tier's requests this target actually served this period, in percent. */
    private String sharePercent;

    private Long requests;
  }

  /** Usage of the route in the current budget period (or calendar month without a budget). */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class RouteUsage {
    private String periodStart;
    private Long requests;
    private Long errors;
    private Long inputTokens;
    private Long outputTokens;
    private Long cacheReadTokens;
    private Long cacheWriteTokens;

    /** USD spent, decimal string. */
    private String spend;

    private Long cacheHits;

    /** Response cache hits per request, in percent. */
    private String cacheHitRatePercent;

    /** USD not spent thanks to response cache hits. */
    private String cacheSavings;

    private Long failovers;

    /**
     * Provider prompt cache: cache-read tokens / (cache-read + cache-write tokens), in percent;
     * absent until the route read or wrote a provider cache.
     */
    private String promptCacheHitRatePercent;

    /**
     * The same usage by endpoint kind: {@code chat}, {@code responses}, {@code embeddings}, {@code
     * completions}, {@code count_tokens}, {@code passthrough}, {@code other} (a bounded set); only
     * kinds with calls this period.
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    private java.util.Map<String, EndpointUsage> byEndpoint;

    /** Biggest end users of the route this month (at most 10), as in Budget status. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    private List<BudgetStatus.SpendItem> topUsers;

    /** Biggest feature tags of the route this month (at most 10). */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    private List<BudgetStatus.SpendItem> topFeatures;

    /** Spend and requests by calling workload, {@code Kind/name} (at most 10). */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    private List<BudgetStatus.SpendItem> byWorkload;
  }

  /** The calls of one endpoint kind on a route this period. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class EndpointUsage {
    private Long requests;
    private Long inputTokens;
    private Long outputTokens;

    /** USD spent, decimal string. */
    private String spend;
  }

  /** How many sidecars run the current configuration. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SidecarRollout {
    private String configVersion;
    private Integer total;
    private Integer upToDate;
  }
}
