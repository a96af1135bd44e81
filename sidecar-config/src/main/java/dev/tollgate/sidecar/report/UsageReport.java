package dev.tollgate.sidecar.report;

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
 * @param leaving true on the final report of a sidecar that stops: it no longer counts as live, so
 *     its budget allowances and credential shares are released at once
 */
public record UsageReport(
    String namespace,
    String pod,
    String podUid,
    String bootId,
    long sequence,
    String configVersion,
    List<Line> lines,
    boolean leaving) {

  public UsageReport {
    lines = lines == null ? List.of() : List.copyOf(lines);
  }

  /** A report of a sidecar that keeps running (and from sidecars older than {@code leaving}). */
  public UsageReport(
      String namespace,
      String pod,
      String podUid,
      String bootId,
      long sequence,
      String configVersion,
      List<Line> lines) {
    this(namespace, pod, podUid, bootId, sequence, configVersion, lines, false);
  }

  /**
   * Usage of one route/tier/credential/model since the previous report.
   *
   * @param budget the Budget the route draws from, or null
   * @param costUsd exact decimal string
   * @param errors error counts by kind, of calls that ended on this target
   * @param failedAttempts attempts on this target that failed and were failed over or retried
   *     elsewhere, by kind: the calls succeeded, but the provider did not (provider health)
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
      Map<String, Long> failedAttempts) {
    public Line {
      errors = errors == null ? Map.of() : Map.copyOf(errors);
      failedAttempts = failedAttempts == null ? Map.of() : Map.copyOf(failedAttempts);
    }

    /** A line without failed attempts (reports from sidecars older than that field). */
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
}
