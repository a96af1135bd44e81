package dev.tollgate.operator.report;

import dev.tollgate.sidecar.config.report.Money;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks every field of a usage report before anything of it reaches the ledger: a report comes
 * from a pod, and any pod in the cluster can send one. Money must be a plain non-negative decimal
 * within {@link #MAX_USD} ({@link Money}); counts non-negative and within {@link #MAX_COUNT};
 * names, lists and maps bounded. The first problem is returned as a sentence naming the field, e.g.
 * {@code lines[3].costUsd: "1E+100000" is not ...}. Limits sit far above what an honest sidecar
 * sends (a sidecar sends one line per route, tier, credential and model it called since its last
 * acknowledged report).
 */
public final class ReportValidator {
  /** Largest amount one money field may carry: a million dollars in one report interval. */
  public static final BigDecimal MAX_USD = new BigDecimal("1000000");

  /** Largest count (requests, tokens, errors): far above a pod's traffic, far below overflow. */
  public static final long MAX_COUNT = 1_000_000_000_000L;

  public static final int MAX_LINES = 2_000;
  public static final int MAX_TARGETS = 2_000;
  public static final int MAX_CALLERS = 20_000;
  public static final int MAX_BUDGETS_WITH_CALLERS = 64;
  public static final int MAX_ERROR_KINDS = 64;

  /** Admitted batches in one report (a sidecar sends at most 100 a report and keeps the rest). */
  public static final int MAX_BATCHES = 100;

  /** Requests in one batch: Anthropic's own limit is 100,000. */
  public static final long MAX_BATCH_ITEMS = 100_000;

  /** Budgets one batch's estimate names. */
  public static final int MAX_BATCH_BUDGETS = 64;

  private static final java.util.regex.Pattern BATCH_ID =
      java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,128}");

  /** Entries of {@code attribution.users} and of {@code attribution.features}. */
  public static final int MAX_ATTRIBUTED = 20_000;

  /** Object names (DNS subdomains), pod names, UIDs, boot ids. */
  public static final int MAX_NAME = 253;

  /** Model names as the API allows them. */
  public static final int MAX_MODEL = 200;

  /** Caller keys: a 64-character identifier, {@code sha256:<hex>} or {@code _other}. */
  public static final int MAX_CALLER = 128;

  /** Error kinds, circuit states, versions, timestamps. */
  public static final int MAX_SHORT = 128;

  private static final Set<String> CIRCUITS = Set.of("Closed", "Open", "HalfOpen");

  private ReportValidator() {}

  /** The first problem of {@code report}, or empty when every field is acceptable. */
  public static Optional<String> problem(UsageReport report) {
    try {
      check(report);
      return Optional.empty();
    } catch (Invalid e) {
      return Optional.of(e.getMessage());
    }
  }

  private static void check(UsageReport r) {
    name("namespace", r.namespace(), MAX_NAME, true);
    name("pod", r.pod(), MAX_NAME, true);
    name("podUid", r.podUid(), MAX_NAME, true);
    name("bootId", r.bootId(), MAX_NAME, true);
    if (r.sequence() < 1) {
      throw new Invalid("sequence: must be 1 or more, got " + r.sequence());
    }
    name("configVersion", r.configVersion(), MAX_SHORT, false);
    size("lines", r.lines(), MAX_LINES);
    for (int i = 0; i < r.lines().size(); i++) {
      line("lines[" + i + "]", r.lines().get(i));
    }
    size("targets", r.targets(), MAX_TARGETS);
    for (int i = 0; i < r.targets().size(); i++) {
      target("targets[" + i + "]", r.targets().get(i));
    }
    size("callers", r.callers(), MAX_CALLERS);
    Map<String, Integer> perBudget = new HashMap<>();
    for (int i = 0; i < r.callers().size(); i++) {
      String at = "callers[" + i + "]";
      UsageReport.CallerSpend c = r.callers().get(i);
      if (c == null) {
        throw new Invalid(at + ": must not be null");
      }
      name(at + ".budget", c.budget(), MAX_NAME, true);
      name(at + ".caller", c.caller(), MAX_CALLER, true);
      count(at + ".requests", c.requests());
      money(at + ".costUsd", c.costUsd(), true);
      int n = perBudget.merge(c.budget(), 1, Integer::sum);
      if (n > UsageReport.CallerSpend.MAX_PER_BUDGET + 1) {
        throw new Invalid(
            at
                + ": more than "
                + (UsageReport.CallerSpend.MAX_PER_BUDGET + 1)
                + " callers for budget "
                + c.budget()
                + " (sidecars sum the rest into "
                + UsageReport.CallerSpend.OTHER
                + ")");
      }
      if (perBudget.size() > MAX_BUDGETS_WITH_CALLERS) {
        throw new Invalid(at + ": callers of more than " + MAX_BUDGETS_WITH_CALLERS + " budgets");
      }
    }
    size("batches", r.batches(), MAX_BATCHES);
    for (int i = 0; i < r.batches().size(); i++) {
      batch("batches[" + i + "]", r.batches().get(i));
    }
    attribution(r.attribution());
  }

  private static void batch(String at, UsageReport.AdmittedBatch b) {
    if (b == null) {
      throw new Invalid(at + ": must not be null");
    }
    if (b.id() == null || !BATCH_ID.matcher(b.id()).matches()) {
      throw new Invalid(at + ".id: must be 1 to 128 letters, digits, '_' or '-', got " + q(b.id()));
    }
    name(at + ".credential", b.credential(), MAX_NAME, true);
    if (!UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES.equals(b.api())
        && !UsageReport.AdmittedBatch.OPENAI_BATCH.equals(b.api())) {
      throw new Invalid(
          at
              + ".api: must be "
              + UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES
              + " or "
              + UsageReport.AdmittedBatch.OPENAI_BATCH
              + " (the batch APIs metered), got "
              + q(b.api()));
    }
    if (b.items() < 1 || b.items() > MAX_BATCH_ITEMS) {
      throw new Invalid(at + ".items: must be from 1 to " + MAX_BATCH_ITEMS + ", got " + b.items());
    }
    if (b.estimates().size() > MAX_BATCH_BUDGETS) {
      throw new Invalid(at + ".estimates: more than " + MAX_BATCH_BUDGETS + " budgets");
    }
    for (Map.Entry<String, String> e : b.estimates().entrySet()) {
      name(at + ".estimates key", e.getKey(), MAX_NAME, true);
      money(at + ".estimates[" + q(e.getKey()) + "]", e.getValue(), true);
    }
    size(at + ".routes", b.routes(), UsageReport.AdmittedBatch.MAX_ROUTES);
    for (int i = 0; i < b.routes().size(); i++) {
      String r = at + ".routes[" + i + "]";
      UsageReport.BatchRoute route = b.routes().get(i);
      if (route == null) {
        throw new Invalid(r + ": must not be null");
      }
      name(r + ".route", route.route(), MAX_NAME, true);
      name(r + ".model", route.model(), MAX_MODEL, true);
      name(r + ".budget", route.budget(), MAX_NAME, false);
    }
  }

  /** Attribution keys: a short id, {@code sha256:<hex>}, a feature tag or {@code _other}. */
  private static final java.util.regex.Pattern ATTRIBUTION_KEY =
      java.util.regex.Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._@+=:/-]{0,127}");

  /** Workload names: DNS subdomains. */
  private static final java.util.regex.Pattern WORKLOAD_NAME =
      java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

  private static void attribution(UsageReport.Attribution a) {
    if (a == null) {
      return;
    }
    UsageReport.Workload w = a.workload();
    if (w != null) {
      if (w.kind() == null || !UsageReport.Workload.KINDS.contains(w.kind())) {
        throw new Invalid(
            "attribution.workload.kind: not one of "
                + new java.util.TreeSet<>(UsageReport.Workload.KINDS)
                + ", got "
                + q(w.kind()));
      }
      if (w.name() == null || !WORKLOAD_NAME.matcher(w.name()).matches()) {
        throw new Invalid(
            "attribution.workload.name: not a Kubernetes object name: " + q(w.name()));
      }
      if (w.serviceAccount() != null && !WORKLOAD_NAME.matcher(w.serviceAccount()).matches()) {
        throw new Invalid(
            "attribution.workload.serviceAccount: not a Kubernetes object name: "
                + q(w.serviceAccount()));
      }
      if (w.source() != null && !UsageReport.Workload.SOURCES.contains(w.source())) {
        throw new Invalid(
            "attribution.workload.source: not one of "
                + new java.util.TreeSet<>(UsageReport.Workload.SOURCES)
                + ", got "
                + q(w.source()));
      }
    }
    keySpend("attribution.users", a.users(), UsageReport.Attribution.MAX_USERS_PER_ROUTE);
    keySpend("attribution.features", a.features(), UsageReport.Attribution.MAX_FEATURES_PER_ROUTE);
  }

  private static void keySpend(String at, List<UsageReport.KeySpend> spend, int perRoute) {
    size(at, spend, MAX_ATTRIBUTED);
    Map<String, Integer> routes = new HashMap<>();
    for (int i = 0; i < spend.size(); i++) {
      String k = at + "[" + i + "]";
      UsageReport.KeySpend s = spend.get(i);
      if (s == null) {
        throw new Invalid(k + ": must not be null");
      }
      name(k + ".route", s.route(), MAX_NAME, true);
      name(k + ".budget", s.budget(), MAX_NAME, false);
      if (s.key() == null || !ATTRIBUTION_KEY.matcher(s.key()).matches()) {
        throw new Invalid(
            k + ".key: not an identifier of at most 128 characters (the sidecar hashes others)");
      }
      count(k + ".requests", s.requests());
      money(k + ".costUsd", s.costUsd(), true);
      if (routes.merge(s.route(), 1, Integer::sum) > perRoute + 1) {
        throw new Invalid(
            k
                + ": more than "
                + (perRoute + 1)
                + " keys for route "
                + s.route()
                + " (sidecars sum the rest into "
                + UsageReport.Attribution.OTHER
                + ")");
      }
    }
  }

  private static void line(String at, UsageReport.Line l) {
    if (l == null) {
      throw new Invalid(at + ": must not be null");
    }
    name(at + ".route", l.route(), MAX_NAME, true);
    name(at + ".tier", l.tier(), MAX_NAME, false);
    name(at + ".credential", l.credential(), MAX_NAME, false);
    name(at + ".model", l.model(), MAX_MODEL, false);
    name(at + ".budget", l.budget(), MAX_NAME, false);
    count(at + ".requests", l.requests());
    count(at + ".inputTokens", l.inputTokens());
    count(at + ".outputTokens", l.outputTokens());
    count(at + ".cacheReadTokens", l.cacheReadTokens());
    count(at + ".cacheWriteTokens", l.cacheWriteTokens());
    money(at + ".costUsd", l.costUsd(), false);
    count(at + ".failovers", l.failovers());
    counts(at + ".errors", l.errors());
    counts(at + ".failedAttempts", l.failedAttempts());
    count(at + ".cacheHits", l.cacheHits());
    count(at + ".savedInputTokens", l.savedInputTokens());
    count(at + ".savedOutputTokens", l.savedOutputTokens());
    money(at + ".savedCostUsd", l.savedCostUsd(), false);
    if (l.byEndpoint().size() > UsageReport.EndpointUsage.KINDS.size()) {
      throw new Invalid(
          at + ".byEndpoint: more than " + UsageReport.EndpointUsage.KINDS.size() + " kinds");
    }
    for (Map.Entry<String, UsageReport.EndpointUsage> e : l.byEndpoint().entrySet()) {
      String k = at + ".byEndpoint[" + q(e.getKey()) + "]";
      if (e.getKey() == null || !UsageReport.EndpointUsage.KINDS.contains(e.getKey())) {
        throw new Invalid(
            k
                + ": not an endpoint kind "
                + new java.util.TreeSet<>(UsageReport.EndpointUsage.KINDS));
      }
      if (e.getValue() == null) {
        throw new Invalid(k + ": must not be null");
      }
      count(k + ".requests", e.getValue().requests());
      count(k + ".inputTokens", e.getValue().inputTokens());
      count(k + ".outputTokens", e.getValue().outputTokens());
      money(k + ".costUsd", e.getValue().costUsd(), true);
    }
  }

  private static void target(String at, UsageReport.TargetState t) {
    if (t == null) {
      throw new Invalid(at + ": must not be null");
    }
    name(at + ".route", t.route(), MAX_NAME, true);
    name(at + ".tier", t.tier(), MAX_NAME, false);
    name(at + ".credential", t.credential(), MAX_NAME, false);
    name(at + ".model", t.model(), MAX_MODEL, false);
    if (t.circuit() != null && !CIRCUITS.contains(t.circuit())) {
      throw new Invalid(at + ".circuit: must be Closed, Open or HalfOpen, got " + q(t.circuit()));
    }
    if (t.calls() < 0) {
      throw new Invalid(at + ".calls: must not be negative, got " + t.calls());
    }
    float rate = t.errorRatePercent();
    if (!(rate >= 0 && rate <= 100)) {
      throw new Invalid(at + ".errorRatePercent: must be from 0 to 100, got " + rate);
    }
    millis(at + ".ttftP50Millis", t.ttftP50Millis());
    millis(at + ".ttftP95Millis", t.ttftP95Millis());
    name(at + ".lastError", t.lastError(), MAX_SHORT, false);
    name(at + ".lastErrorAt", t.lastErrorAt(), MAX_SHORT, false);
    if (t.lastErrorAt() != null) {
      try {
        Instant.parse(t.lastErrorAt());
      } catch (DateTimeParseException e) {
        throw new Invalid(at + ".lastErrorAt: not an ISO-8601 instant: " + q(t.lastErrorAt()));
      }
    }
  }

  private static void millis(String at, long value) {
    if (value < -1 || value > 86_400_000L) {
      throw new Invalid(at + ": must be -1 (none) or from 0 to 86400000 ms, got " + value);
    }
  }

  private static void counts(String at, Map<String, Long> byKind) {
    if (byKind.size() > MAX_ERROR_KINDS) {
      throw new Invalid(at + ": more than " + MAX_ERROR_KINDS + " kinds");
    }
    for (Map.Entry<String, Long> e : byKind.entrySet()) {
      name(at + " key", e.getKey(), MAX_SHORT, true);
      if (e.getValue() == null) {
        throw new Invalid(at + "[" + q(e.getKey()) + "]: must be a count");
      }
      count(at + "[" + q(e.getKey()) + "]", e.getValue());
    }
  }

  private static void count(String at, long value) {
    if (value < 0 || value > MAX_COUNT) {
      throw new Invalid(at + ": must be from 0 to " + MAX_COUNT + ", got " + value);
    }
  }

  private static void money(String at, String value, boolean required) {
    if (value == null) {
      if (required) {
        throw new Invalid(at + ": required");
      }
      return;
    }
    if (!Money.valid(value)) {
      throw new Invalid(
          at
              + ": "
              + q(value)
              + " is not a plain non-negative decimal (digits, at most one point, no exponent,"
              + " at most 18 decimals)");
    }
    if (new BigDecimal(value).compareTo(MAX_USD) > 0) {
      throw new Invalid(at + ": " + q(value) + " is above the limit of " + MAX_USD + " USD");
    }
  }

  private static void name(String at, String value, int max, boolean required) {
    if (value == null || value.isEmpty()) {
      if (required) {
        throw new Invalid(at + ": required");
      }
      return;
    }
    if (value.length() > max) {
      throw new Invalid(at + ": longer than " + max + " characters");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new Invalid(at + ": contains a control character");
      }
    }
  }

  private static void size(String at, List<?> list, int max) {
    if (list.size() > max) {
      throw new Invalid(at + ": more than " + max + " entries (" + list.size() + ")");
    }
  }

  private static String q(String value) {
    return Money.quoted(value);
  }

  private static final class Invalid extends RuntimeException {
    Invalid(String message) {
      super(message, null, false, false);
    }
  }
}
