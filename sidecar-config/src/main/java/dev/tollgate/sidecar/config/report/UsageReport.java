package dev.tollgate.sidecar.config.report;

import java.util.List;
import java.util.Map;

/**
 * What a sidecar sends the operator ({@code POST /v1/reports}): its usage since the last report the
 * operator acknowledged. The operator applies each (pod UID, boot id, sequence) at most once, so a
 * sidecar resends the same report with the same sequence until it is acknowledged and only then
 * starts the next one.
 *
 * @param namespace the pod's namespace; must match the namespace of the pod's token
 * @param pod pod name
 * @param podUid pod UID (a recreated pod with the same name is another reporter)
 * @param bootId random per sidecar process start
 * @param sequence 1, 2, ... per boot
 * @param configVersion the configuration version the sidecar runs
 * @param lines usage per route, tier, credential and model since the previous report
 * @param targets each called target's health as this sidecar sees it now (a snapshot, not usage:
 *     the operator keeps the latest per sidecar)
 * @param last this sidecar process has ended (its final report, or one it left unsent and a
 *     restarted sidecar of the same pod delivers): the operator releases what it granted it
 * @param callers spend per Budget and caller since the previous report, for Budgets with per-caller
 *     quotas (at most {@link CallerSpend#MAX_PER_BUDGET} callers per budget, the rest summed into
 *     {@link CallerSpend#OTHER})
 * @param batches provider batches this sidecar submitted and the provider accepted since the
 *     previous report, for the operator to meter once they end (empty from a sidecar that submitted
 *     none, or from one before batch metering)
 * @param attribution the pod's workload and spend by end user and feature, or null (an older
 *     sidecar)
 */
public record UsageReport(
    String namespace,
    String pod,
    String podUid,
    String bootId,
    long sequence,
    String configVersion,
    List<Line> lines,
    List<TargetState> targets,
    boolean last,
    List<CallerSpend> callers,
    List<AdmittedBatch> batches,
    Attribution attribution) {

  public UsageReport {
    lines = lines == null ? List.of() : List.copyOf(lines);
    targets = targets == null ? List.of() : List.copyOf(targets);
    callers = callers == null ? List.of() : List.copyOf(callers);
    batches = batches == null ? List.of() : List.copyOf(batches);
  }

  /** A report without admitted batches. */
  public UsageReport(
      String namespace,
      String pod,
      String podUid,
      String bootId,
      long sequence,
      String configVersion,
      List<Line> lines,
      List<TargetState> targets,
      boolean last,
      List<CallerSpend> callers) {
    this(
        namespace,
        pod,
        podUid,
        bootId,
        sequence,
        configVersion,
        lines,
        targets,
        last,
        callers,
        (List<AdmittedBatch>) null,
        (Attribution) null);
  }

  /** A report with admitted batches, without attribution. */
  public UsageReport(
      String namespace,
      String pod,
      String podUid,
      String bootId,
      long sequence,
      String configVersion,
      List<Line> lines,
      List<TargetState> targets,
      boolean last,
      List<CallerSpend> callers,
      List<AdmittedBatch> batches) {
    this(
        namespace,
        pod,
        podUid,
        bootId,
        sequence,
        configVersion,
        lines,
        targets,
        last,
        callers,
        batches,
        (Attribution) null);
  }

  /** A report with attribution, without admitted batches. */
  public UsageReport(
      String namespace,
      String pod,
      String podUid,
      String bootId,
      long sequence,
      String configVersion,
      List<Line> lines,
      List<TargetState> targets,
      boolean last,
      List<CallerSpend> callers,
      Attribution attribution) {
    this(
        namespace,
        pod,
        podUid,
        bootId,
        sequence,
        configVersion,
        lines,
        targets,
        last,
        callers,
        (List<AdmittedBatch>) null,
        attribution);
  }

  /** This report with {@code other} batches (a split or merge of reports carries them on). */
  public UsageReport withBatches(List<AdmittedBatch> other) {
    return new UsageReport(
        namespace,
        pod,
        podUid,
        bootId,
        sequence,
        configVersion,
        lines,
        targets,
        last,
        callers,
        other,
        attribution);
  }

  /** This report with {@code other} attribution (a split or merge of reports carries it on). */
  public UsageReport withAttribution(Attribution other) {
    return new UsageReport(
        namespace,
        pod,
        podUid,
        bootId,
        sequence,
        configVersion,
        lines,
        targets,
        last,
        callers,
        batches,
        other);
  }

  /**
   * A provider batch the sidecar submitted and the provider accepted (its answer named the id): the
   * operator holds {@code estimates} against the budgets until the batch ends, then reads its
   * results with the credential's key and applies their spend once, keyed by {@code id}.
   *
   * @param id the provider's batch id, e.g. {@code msgbatch_...}
   * @param credential the ProviderCredential the batch was sent with
   * @param api {@link #ANTHROPIC_MESSAGES} (the one batch API metered so far)
   * @param items how many requests the batch holds
   * @param estimates estimated USD per budget name at batch prices, exact decimal strings
   * @param routes the routes the items named, with the model each resolved to on this credential
   *     and the route's budget: the results' models are attributed to them
   */
  public record AdmittedBatch(
      String id,
      String credential,
      String api,
      long items,
      Map<String, String> estimates,
      List<BatchRoute> routes) {
    public static final String ANTHROPIC_MESSAGES = "anthropic-messages";
    public static final String OPENAI_BATCH = "openai-batch";

    /** Routes one batch names, at most; a sidecar keeps the first ones. */
    public static final int MAX_ROUTES = 64;

    public AdmittedBatch {
      estimates = estimates == null ? Map.of() : Map.copyOf(estimates);
      routes = routes == null ? List.of() : List.copyOf(routes);
    }
  }

  /**
   * A route a batch's items named.
   *
   * @param model the model the route resolved to on the batch's credential
   * @param budget the route's Budget, or null
   */
  public record BatchRoute(String route, String model, String budget) {}

  /**
   * Who this report's usage was for: the workload the pod belongs to (its lines' usage counts for
   * it), and spend by end user and by feature tag since the previous report.
   *
   * @param workload the pod's owner as the admission webhook resolved it, or null
   * @param users spend per route and end-user key, at most {@link #MAX_USERS_PER_ROUTE} per route
   *     (the rest in {@link #OTHER})
   * @param features spend per route and feature tag, at most {@link #MAX_FEATURES_PER_ROUTE} per
   *     route (the rest in {@link #OTHER})
   */
  public record Attribution(Workload workload, List<KeySpend> users, List<KeySpend> features) {
    public static final String OTHER = "_other";
    public static final int MAX_USERS_PER_ROUTE = 100;
    public static final int MAX_FEATURES_PER_ROUTE = 20;

    public Attribution {
      users = users == null ? List.of() : List.copyOf(users);
      features = features == null ? List.of() : List.copyOf(features);
    }

    /** The same workload without the spend by user and feature (the second half of a split). */
    public Attribution workloadOnly() {
      return new Attribution(workload, null, null);
    }
  }

  /**
   * The workload a pod belongs to: its controller, resolved through ReplicaSets (to Deployments)
   * and Jobs (to CronJobs).
   *
   * @param kind one of {@link #KINDS}
   * @param name the controller's name
   * @param serviceAccount the pod's service account, or null
   * @param source how the webhook knew: {@code api} (it read the ReplicaSet or Job), {@code naming}
   *     (the API read failed; from the naming convention), {@code ownerReference} (the pod's own
   *     owner reference), {@code pod} (no owner)
   */
  public record Workload(String kind, String name, String serviceAccount, String source) {
    public static final java.util.Set<String> KINDS =
        java.util.Set.of(
            "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod");
    public static final java.util.Set<String> SOURCES =
        java.util.Set.of("api", "naming", "ownerReference", "pod");

    /** {@code Kind/name}, the key spend is kept under. */
    public String key() {
      return kind + "/" + name;
    }
  }

  /**
   * Spend of one end user or feature on one route since the previous report.
   *
   * @param budget the Budget the route draws from, or null
   * @param key the user's key (a short id or {@code sha256:<16 hex>}) or the feature tag
   * @param costUsd exact decimal string
   */
  public record KeySpend(String route, String budget, String key, long requests, String costUsd) {}

  /** A report with target health but without caller spend. */
  public UsageReport(
      String namespace,
      String pod,
      String podUid,
      String bootId,
      long sequence,
      String configVersion,
      List<Line> lines,
      List<TargetState> targets,
      boolean last) {
    this(namespace, pod, podUid, bootId, sequence, configVersion, lines, targets, last, null);
  }

  /** A report with caller spend but without target health. */
  public UsageReport(
      String namespace,
      String pod,
      String podUid,
      String bootId,
      long sequence,
      String configVersion,
      List<Line> lines,
      List<CallerSpend> callers) {
    this(namespace, pod, podUid, bootId, sequence, configVersion, lines, null, false, callers);
  }

  /**
   * Spend of one caller of a Budget with {@code perCaller} since the previous report: every call
   * the caller made on any route of the budget (classifier and escalation calls included).
   *
   * @param caller the caller key as the sidecar derived it from the quota's header: a pseudonym
   *     {@code sha256:<16 hex>} when the budget hashes keys (or the raw value was too long or held
   *     other characters than a short identifier), else the header value; {@link #OTHER} for
   *     callers beyond the per-report cap
   * @param costUsd exact decimal string
   */
  public record CallerSpend(String budget, String caller, long requests, String costUsd) {
    /** The bucket of callers beyond a cap; never quota-limited. */
    public static final String OTHER = "_other";

    /** Callers per budget in one report; the smaller spenders beyond go into {@link #OTHER}. */
    public static final int MAX_PER_BUDGET = 256;
  }

  /**
   * A report with usage lines only. (Wire compatibility does not rest on these shorter
   * constructors: JSON binds to the canonical one, and a field an older sidecar does not send reads
   * as empty.)
   */
  public UsageReport(
      String namespace,
      String pod,
      String podUid,
      String bootId,
      long sequence,
      String configVersion,
      List<Line> lines) {
    this(namespace, pod, podUid, bootId, sequence, configVersion, lines, null, false);
  }

  /**
   * One target's health in this sidecar: its circuit breaker and, over the breaker's recent window,
   * calls, error rate and time-to-first-token percentiles.
   *
   * @param circuit {@code Closed}, {@code Open} or {@code HalfOpen}
   * @param ttftP50Millis -1 when no recent success
   * @param ttftP95Millis -1 when no recent success
   * @param lastError the kind of the last failure (never a message), or null
   * @param lastErrorAt ISO-8601 instant, or null
   */
  public record TargetState(
      String route,
      String tier,
      String credential,
      String model,
      String circuit,
      int calls,
      float errorRatePercent,
      long ttftP50Millis,
      long ttftP95Millis,
      String lastError,
      String lastErrorAt) {}

  /**
   * Usage of one route/tier/credential/model since the previous report.
   *
   * @param budget the Budget the route draws from, or null
   * @param costUsd exact decimal string
   * @param errors error counts by kind, of calls that ended on this target
   * @param failedAttempts attempts on this target that failed and were failed over or retried
   *     elsewhere, by kind: the calls succeeded, but the provider did not (provider health)
   * @param cacheHits calls answered from the response cache with an answer this target gave
   *     earlier; they are not in {@code requests} (nothing reached the provider, nothing was spent)
   * @param savedInputTokens input tokens (including cached input) those hits did not send
   * @param savedOutputTokens output tokens those hits did not generate
   * @param savedCostUsd what those hits would have cost, exact decimal string, or null
   * @param byEndpoint the same calls by endpoint kind ({@link EndpointUsage#KINDS}); empty from a
   *     sidecar that does not report it
   */
  public record Line(
      String route,
      String tier,
      String credential,
      String model,
      String budget,
      long requests,
      long inputTokens,
      long outputTokens,
      long cacheReadTokens,
      long cacheWriteTokens,
      String costUsd,
      long failovers,
      Map<String, Long> errors,
      Map<String, Long> failedAttempts,
      long cacheHits,
      long savedInputTokens,
      long savedOutputTokens,
      String savedCostUsd,
      Map<String, EndpointUsage> byEndpoint) {
    public Line {
      errors = errors == null ? Map.of() : Map.copyOf(errors);
      failedAttempts = failedAttempts == null ? Map.of() : Map.copyOf(failedAttempts);
      byEndpoint = byEndpoint == null ? Map.of() : Map.copyOf(byEndpoint);
    }

    /** A line without its usage by endpoint kind. */
    public Line(
        String route,
        String tier,
        String credential,
        String model,
        String budget,
        long requests,
        long inputTokens,
        long outputTokens,
        long cacheReadTokens,
        long cacheWriteTokens,
        String costUsd,
        long failovers,
        Map<String, Long> errors,
        Map<String, Long> failedAttempts,
        long cacheHits,
        long savedInputTokens,
        long savedOutputTokens,
        String savedCostUsd) {
      this(
          route,
          tier,
          credential,
          model,
          budget,
          requests,
          inputTokens,
          outputTokens,
          cacheReadTokens,
          cacheWriteTokens,
          costUsd,
          failovers,
          errors,
          failedAttempts,
          cacheHits,
          savedInputTokens,
          savedOutputTokens,
          savedCostUsd,
          null);
    }

    /** A line without response cache hits. */
    public Line(
        String route,
        String tier,
        String credential,
        String model,
        String budget,
        long requests,
        long inputTokens,
        long outputTokens,
        long cacheReadTokens,
        long cacheWriteTokens,
        String costUsd,
        long failovers,
        Map<String, Long> errors,
        Map<String, Long> failedAttempts) {
      this(
          route,
          tier,
          credential,
          model,
          budget,
          requests,
          inputTokens,
          outputTokens,
          cacheReadTokens,
          cacheWriteTokens,
          costUsd,
          failovers,
          errors,
          failedAttempts,
          0,
          0,
          0,
          null);
    }

    /** A line without failed attempts or response cache hits. */
    public Line(
        String route,
        String tier,
        String credential,
        String model,
        String budget,
        long requests,
        long inputTokens,
        long outputTokens,
        long cacheReadTokens,
        long cacheWriteTokens,
        String costUsd,
        long failovers,
        Map<String, Long> errors) {
      this(
          route,
          tier,
          credential,
          model,
          budget,
          requests,
          inputTokens,
          outputTokens,
          cacheReadTokens,
          cacheWriteTokens,
          costUsd,
          failovers,
          errors,
          null);
    }
  }

  /**
   * A line's calls of one endpoint kind: requests, tokens and exact spend.
   *
   * @param costUsd exact decimal string
   */
  public record EndpointUsage(long requests, long inputTokens, long outputTokens, String costUsd) {
    /** The endpoint kinds, a bounded set: call records' {@code api} names map onto them. */
    public static final java.util.Set<String> KINDS =
        java.util.Set.of(
            "chat",
            "responses",
            "embeddings",
            "completions",
            "count_tokens",
            "passthrough",
            "other");

    /**
     * The kind of a call record's {@code api} name: both chat APIs ({@code openai}, {@code
     * anthropic}) are {@code chat}; an unknown name is {@code other}.
     */
    public static String kindOf(String api) {
      if (api == null) {
        return "other";
      }
      return switch (api) {
        case "openai", "anthropic" -> "chat";
        case "responses", "embeddings", "completions", "count_tokens", "passthrough" -> api;
        default -> "other";
      };
    }
  }
}
