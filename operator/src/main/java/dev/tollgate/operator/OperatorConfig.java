package dev.tollgate.operator;

import dev.tollgate.sidecar.config.Durations;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The operator's settings, read once at startup from environment variables and overridable with
 * {@code --flag=value} arguments (flags win). Immutable; every collaborator gets what it needs from
 * here.
 *
 * @param watchNamespaces namespaces whose resources are reconciled; empty means all namespaces
 * @param operatorNamespace namespace the operator runs in; the leader-election Lease lives there
 * @param leaderElection whether to take part in leader election (off only for single-replica tests)
 * @param leaseName name of the Lease
 * @param leaseDuration how long a Lease holds without renewal; a new leader takes over after it
 * @param identity this replica's identity in the Lease (the pod name)
 * @param httpPort port of {@code /healthz}, {@code /readyz} and {@code /metrics}; 0 picks a free
 *     one
 * @param configMapName name of the per-namespace sidecar ConfigMap
 * @param useSsaForStatus patch status with server-side apply; off by default, where status is a
 *     JSON patch: the patch style every integration test exercises (the mock API server cannot do
 *     server-side apply), see operator/README.md
 * @param resyncInterval safety-net re-reconcile of every resource, on top of the event-driven ones
 * @param reconcileThreads reconciler worker threads
 * @param secretRecheck how often a ProviderCredential's Secret is read again (the operator does not
 *     watch Secrets), and how long a read serves the routes
 * @param statusUsageInterval a status change of usage figures only (spend, percent used, request
 *     and token counts) is patched at most this often per Budget and LLMRoute; phase, condition,
 *     threshold and health changes go out at once (0: every change at once)
 */
public record OperatorConfig(
    Set<String> watchNamespaces,
    String operatorNamespace,
    boolean leaderElection,
    String leaseName,
    Duration leaseDuration,
    String identity,
    int httpPort,
    String configMapName,
    boolean useSsaForStatus,
    Duration resyncInterval,
    int reconcileThreads,
    Duration secretRecheck,
    Duration statusUsageInterval) {

  /** One setting: flag name, environment variable, default and help. */
  private enum Setting {
    WATCH_NAMESPACES(
        "watch-namespaces",
        "TOLLGATE_WATCH_NAMESPACES",
        "",
        "comma-separated namespaces to watch; empty or * for all"),
    OPERATOR_NAMESPACE(
        "operator-namespace",
        "TOLLGATE_OPERATOR_NAMESPACE",
        "tollgate-system",
        "namespace the operator runs in (holds the Lease); else POD_NAMESPACE"),
    LEADER_ELECTION("leader-election", "TOLLGATE_LEADER_ELECTION", "true", "true or false"),
    LEASE_NAME("lease-name", "TOLLGATE_LEASE_NAME", "tollgate-operator", "leader-election Lease"),
    LEASE_DURATION(
        "lease-duration", "TOLLGATE_LEASE_DURATION", "15s", "Lease validity without renewal"),
    IDENTITY("identity", "POD_NAME", "", "replica identity in the Lease; default: host name"),
    HTTP_PORT("http-port", "TOLLGATE_HTTP_PORT", "8080", "port of /healthz, /readyz, /metrics"),
    CONFIG_MAP_NAME(
        "config-map-name",
        "TOLLGATE_CONFIG_MAP_NAME",
        SidecarConfigMap.NAME,
        "name of the per-namespace sidecar ConfigMap"),
    STATUS_SSA(
        "status-ssa",
        "TOLLGATE_STATUS_SSA",
        "false",
        "patch status with server-side apply instead of a JSON patch"),
    RESYNC_INTERVAL(
        "resync-interval", "TOLLGATE_RESYNC_INTERVAL", "10m", "safety-net re-reconcile interval"),
    RECONCILE_THREADS(
        "reconcile-threads", "TOLLGATE_RECONCILE_THREADS", "4", "reconciler worker threads"),
    SECRET_RECHECK(
        "secret-recheck",
        "TOLLGATE_SECRET_RECHECK",
        "30s",
        "how often referenced Secrets are read again (Secrets are not watched)"),
    STATUS_USAGE_INTERVAL(
        "status-usage-interval",
        "TOLLGATE_STATUS_USAGE_INTERVAL",
        "15s",
        "usage-only status patches at most this often per Budget/LLMRoute (0 to 5m)");

    final String flag;
    final String env;
    final String defaultValue;
    final String help;

    Setting(String flag, String env, String defaultValue, String help) {
      this.flag = flag;
      this.env = env;
      this.defaultValue = defaultValue;
      this.help = help;
    }
  }

  public OperatorConfig {
    watchNamespaces = Set.copyOf(watchNamespaces);
    if (httpPort < 0 || httpPort > 65535) {
      throw new IllegalArgumentException("http port " + httpPort + " is not a TCP port");
    }
    if (reconcileThreads < 1) {
      throw new IllegalArgumentException("reconcile threads must be at least 1");
    }
    secretRecheck = secretRecheck == null ? DEFAULT_SECRET_RECHECK : secretRecheck;
    if (secretRecheck.isNegative() || secretRecheck.isZero()) {
      throw new IllegalArgumentException("secret recheck interval must be positive");
    }
    statusUsageInterval =
        statusUsageInterval == null ? DEFAULT_STATUS_USAGE_INTERVAL : statusUsageInterval;
    if (statusUsageInterval.isNegative()
        || statusUsageInterval.compareTo(Duration.ofMinutes(5)) > 0) {
      throw new IllegalArgumentException("status usage interval must be between 0 and 5m");
    }
  }

  /** Default of {@link #statusUsageInterval}. */
  public static final Duration DEFAULT_STATUS_USAGE_INTERVAL = Duration.ofSeconds(15);

  /** Default of {@link #secretRecheck}. */
  public static final Duration DEFAULT_SECRET_RECHECK = Duration.ofSeconds(30);

  /** Whether every namespace is watched. */
  public boolean watchesAllNamespaces() {
    return watchNamespaces.isEmpty();
  }

  /** Reads the settings from {@code env} and {@code --flag=value} arguments. */
  public static OperatorConfig from(Map<String, String> env, String... args) {
    Map<String, String> flags = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new IllegalArgumentException("expected --flag=value, got '" + arg + "'\n" + usage());
      }
      String name = arg.substring(2, arg.indexOf('='));
      if (Arrays.stream(Setting.values()).noneMatch(s -> s.flag.equals(name))) {
        throw new IllegalArgumentException("unknown flag --" + name + "\n" + usage());
      }
      flags.put(name, arg.substring(arg.indexOf('=') + 1));
    }
    Function<Setting, String> get =
        s -> {
          String v = flags.getOrDefault(s.flag, env.get(s.env));
          return v == null ? s.defaultValue : v.trim();
        };
    String identity = get.apply(Setting.IDENTITY);
    if (identity.isEmpty()) {
      identity = env.getOrDefault("HOSTNAME", "tollgate-operator");
    }
    return new OperatorConfig(
        namespaces(get.apply(Setting.WATCH_NAMESPACES)),
        operatorNamespace(flags, env),
        bool(Setting.LEADER_ELECTION, get.apply(Setting.LEADER_ELECTION)),
        get.apply(Setting.LEASE_NAME),
        duration(Setting.LEASE_DURATION, get.apply(Setting.LEASE_DURATION)),
        identity,
        integer(Setting.HTTP_PORT, get.apply(Setting.HTTP_PORT)),
        get.apply(Setting.CONFIG_MAP_NAME),
        bool(Setting.STATUS_SSA, get.apply(Setting.STATUS_SSA)),
        duration(Setting.RESYNC_INTERVAL, get.apply(Setting.RESYNC_INTERVAL)),
        integer(Setting.RECONCILE_THREADS, get.apply(Setting.RECONCILE_THREADS)),
        duration(Setting.SECRET_RECHECK, get.apply(Setting.SECRET_RECHECK)),
        duration(Setting.STATUS_USAGE_INTERVAL, get.apply(Setting.STATUS_USAGE_INTERVAL)));
  }

  /** Help text listing every flag and environment variable. */
  public static String usage() {
    StringBuilder sb = new StringBuilder("settings (flag / environment variable, default):\n");
    for (Setting s : Setting.values()) {
      sb.append(
          String.format(
              "  --%-20s %-28s %s (default: %s)%n",
              s.flag, s.env, s.help, s.defaultValue.isEmpty() ? "none" : s.defaultValue));
    }
    return sb.toString();
  }

  /** The flag, else the variable, else the pod's namespace from the downward API, else default. */
  private static String operatorNamespace(Map<String, String> flags, Map<String, String> env) {
    Setting s = Setting.OPERATOR_NAMESPACE;
    String value = flags.getOrDefault(s.flag, env.getOrDefault(s.env, env.get("POD_NAMESPACE")));
    return value == null || value.isBlank() ? s.defaultValue : value.trim();
  }

  private static Set<String> namespaces(String value) {
    Set<String> result = new LinkedHashSet<>();
    for (String ns : value.split(",")) {
      if (!ns.isBlank() && !ns.trim().equals("*")) {
        result.add(ns.trim());
      }
    }
    return result;
  }

  private static boolean bool(Setting s, String value) {
    if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
      return Boolean.parseBoolean(value);
    }
    throw new IllegalArgumentException(
        "--" + s.flag + " / " + s.env + ": expected true or false, got '" + value + "'");
  }

  private static int integer(Setting s, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--" + s.flag + " / " + s.env + ": expected a number, got '" + value + "'", e);
    }
  }

  private static Duration duration(Setting s, String value) {
    try {
      return Durations.parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--" + s.flag + " / " + s.env + ": " + e.getMessage(), e);
    }
  }
}
