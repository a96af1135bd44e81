package dev.tollgate.sidecar.config.report;

import java.util.List;

/**
 * The operator's answer to a {@link UsageReport}: acknowledgement plus the live state the sidecar
 * enforces until the next reply.
 *
 * @param acknowledgedSequence the sequence now durably applied (or already applied earlier)
 * @param configVersion the configuration version the operator last rendered for the namespace, or
 *     null if unknown
 * @param budgets state of every Budget of the namespace
 * @param credentialShares this sidecar's share of every rate-limited ProviderCredential of the
 *     namespace (empty from operators that do not divide limits)
 * @param reportIntervalMillis how long the sidecar should wait before its next periodic report,
 *     when the operator asks for a longer interval than the sidecar's own (many live sidecars, no
 *     budget near its limit); null: the sidecar's configured interval. A sidecar never reports less
 *     often than this says, nor more often than it is configured to, and still reports at once when
 *     an allowance runs out.
 * @param configSha256 the SHA-256 (64 hex digits) of the configuration text the operator rendered
 *     for the namespace, from its own render (never from the tenant-writable ConfigMap); the
 *     sidecar runs only a configuration whose text hashes to it. Null: the operator announces none
 *     (it has not rendered the namespace yet, or it is older than this field).
 */
public record ReportReply(
    long acknowledgedSequence,
    String configVersion,
    List<BudgetState> budgets,
    List<CredentialShare> credentialShares,
    Long reportIntervalMillis,
    String configSha256) {

  public ReportReply {
    budgets = budgets == null ? List.of() : List.copyOf(budgets);
    credentialShares = credentialShares == null ? List.of() : List.copyOf(credentialShares);
  }

  /**
   * A reply that announces no configuration hash (JSON from older operators reads the same way).
   */
  public ReportReply(
      long acknowledgedSequence,
      String configVersion,
      List<BudgetState> budgets,
      List<CredentialShare> credentialShares,
      Long reportIntervalMillis) {
    this(
        acknowledgedSequence, configVersion, budgets, credentialShares, reportIntervalMillis, null);
  }

  /** A reply that leaves the report interval to the sidecar. */
  public ReportReply(
      long acknowledgedSequence,
      String configVersion,
      List<BudgetState> budgets,
      List<CredentialShare> credentialShares) {
    this(acknowledgedSequence, configVersion, budgets, credentialShares, null);
  }

  /** A reply without credential shares (JSON from older operators reads the same way). */
  public ReportReply(long acknowledgedSequence, String configVersion, List<BudgetState> budgets) {
    this(acknowledgedSequence, configVersion, budgets, null);
  }

  /**
   * One Budget as the sidecar enforces it.
   *
   * @param phase Ok, Warning or Exceeded
   * @param action Block, Downgrade or AlertOnly
   * @param allowanceUsd what this sidecar may spend on the budget before its next reply (decimal
   *     string); its share of the remaining budget not already granted to other sidecars
   * @param percentUsed spent over limit, in percent (decimal string)
   * @param blockedCallers callers (keys as sidecars report them) whose spend this period reached
   *     the budget's per-caller limit: the sidecar refuses their calls
   * @param callers the period's spend, as now recorded, of each caller this report carried
   */
  public record BudgetState(
      String name,
      String phase,
      String action,
      String allowanceUsd,
      String percentUsed,
      List<String> blockedCallers,
      List<CallerTotal> callers) {

    public BudgetState {
      blockedCallers = blockedCallers == null ? List.of() : List.copyOf(blockedCallers);
      callers = callers == null ? List.of() : List.copyOf(callers);
    }

    /** A budget state without per-caller state (JSON from older operators reads the same way). */
    public BudgetState(
        String name, String phase, String action, String allowanceUsd, String percentUsed) {
      this(name, phase, action, allowanceUsd, percentUsed, null, null);
    }
  }

  /** A caller's spend in the current period across the namespace (decimal string). */
  public record CallerTotal(String caller, String spentUsd) {}

  /**
   * This sidecar's part of a ProviderCredential's account limits, which hold across every sidecar
   * of the namespace. A dimension the credential does not limit is null; 0 means none of it is free
   * for this sidecar yet (the others still hold it).
   *
   * @param credential the ProviderCredential's name
   * @param requestsPerMinute this sidecar's requests per minute, or null
   * @param tokensPerMinute this sidecar's tokens per minute, or null
   * @param liveSidecars how many live sidecars the limits are divided among
   */
  public record CredentialShare(
      String credential, Long requestsPerMinute, Long tokensPerMinute, int liveSidecars) {}
}
