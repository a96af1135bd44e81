package dev.tollgate.sidecar.config;

import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Checks a configuration for everything the CRDs' schema cannot express across objects (references,
 * uniqueness) plus the schema rules themselves, because a configuration may also be written by hand
 * for local mode. Each problem is a sentence that starts with the field path, e.g. {@code
 * routes[chat].tiers[0].targets[1].credential: credential 'x' is not declared}.
 */
public final class SidecarConfigValidator {
  private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$");
  private static final Pattern MODEL_NAME =
      Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$");
  private static final Pattern HEADER_NAME = Pattern.compile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$");

  private final SidecarConfig config;
  private final List<String> problems = new ArrayList<>();

  private SidecarConfigValidator(SidecarConfig config) {
    this.config = config;
  }

  /** All problems found; empty when the configuration is valid. */
  public static List<String> validate(SidecarConfig config) {
    SidecarConfigValidator v = new SidecarConfigValidator(config);
    v.run();
    return List.copyOf(v.problems);
  }

  private void run() {
    if (blank(config.namespace())) {
      problem("namespace", "is required");
    }
    server(config.server());
    if (config.prices() != null) {
      config.prices().problems().forEach(p -> problem("prices", p));
    }
    Set<String> credentialNames = new HashSet<>();
    for (int i = 0; i < config.credentials().size(); i++) {
      CredentialConfig c = config.credentials().get(i);
      String path = "credentials[" + (blank(c.name()) ? i : c.name()) + "]";
      if (blank(c.name())) {
        problem(path + ".name", "is required");
      } else if (!credentialNames.add(c.name())) {
        problem(path + ".name", "is declared twice; credential names must be unique");
      }
      credential(path, c);
    }
    Set<String> budgetNames = new HashSet<>();
    for (int i = 0; i < config.budgets().size(); i++) {
      BudgetConfig b = config.budgets().get(i);
      String path = "budgets[" + (blank(b.name()) ? i : b.name()) + "]";
      if (blank(b.name())) {
        problem(path + ".name", "is required");
      } else if (!budgetNames.add(b.name())) {
        problem(path + ".name", "is declared twice; budget names must be unique");
      }
      budget(path, b);
    }
    Set<String> models = new HashSet<>();
    List<String> defaults = new ArrayList<>();
    for (int i = 0; i < config.routes().size(); i++) {
      RouteConfig r = config.routes().get(i);
      String path = "routes[" + (blank(r.model()) ? i : r.model()) + "]";
      if (blank(r.model())) {
        problem(path + ".model", "is required");
      } else if (!MODEL_NAME.matcher(r.model()).matches()) {
        problem(path + ".model", "'" + r.model() + "' is not a valid model name");
      } else if (!models.add(r.model())) {
        problem(path + ".model", "is declared by two routes; model names must be unique");
      }
      if (r.defaultRoute()) {
        defaults.add(r.model());
      }
      route(path, r);
    }
    if (defaults.size() > 1) {
      problem("routes", "more than one route sets default: true " + defaults + "; keep one");
    }
  }

  private void server(ServerSettings s) {
    if (s.port() < 0 || s.port() > 65535) {
      problem("server.port", s.port() + " is not a TCP port (0-65535)");
    }
    if (blank(s.bindAddress())) {
      problem("server.bindAddress", "must not be empty");
    }
    if (s.maxRequestBodyBytes() < 1) {
      problem("server.maxRequestBodyBytes", "must be at least 1");
    }
    if (s.maxBatchUploadBytes() < 1) {
      problem("server.maxBatchUploadBytes", "must be at least 1");
    }
    positive("server.clientReadTimeout", s.clientReadTimeout());
    notNegative("server.shutdownGrace", s.shutdownGrace());
  }

  private void credential(String path, CredentialConfig c) {
    if (c.provider() == null) {
      problem(path + ".provider", "is required");
      return;
    }
    boolean endpointFromSettings =
        c.provider() == ProviderKind.BEDROCK || c.provider() == ProviderKind.VERTEX_AI;
    if (c.endpoint() == null && c.provider().defaultEndpoint().isEmpty() && !endpointFromSettings) {
      problem(path + ".endpoint", "is required for provider " + c.provider().wireName());
    } else if (c.endpoint() != null && !isHttpUrl(c.endpoint())) {
      problem(path + ".endpoint", "'" + c.endpoint() + "' is not an http(s) URL");
    }
    if (c.auth().kind().provider() != null && c.auth().kind().provider() != c.provider()) {
      problem(
          path + ".auth.kind",
          c.auth().kind().wireName()
              + " is for provider "
              + c.auth().kind().provider().wireName()
              + ", not "
              + c.provider().wireName());
    }
    if (c.usesApiKey() && blank(c.apiKeyFile())) {
      problem(
          path + ".apiKeyFile",
          "is required for provider " + c.provider().wireName() + " (path of the mounted key)");
    } else if (!blank(c.apiKeyFile()) && !c.apiKeyFile().startsWith("/")) {
      problem(path + ".apiKeyFile", "must be an absolute path, got '" + c.apiKeyFile() + "'");
    }
    if (c.caFile() != null && !c.caFile().startsWith("/")) {
      problem(path + ".caFile", "must be an absolute path, got '" + c.caFile() + "'");
    }
    for (String p : c.passthrough().paths()) {
      if (p == null || !p.startsWith("/v1/")) {
        problem(path + ".passthrough.paths", "each path must start with /v1/, got '" + p + "'");
      }
    }
    if (c.passthrough().maxBodyBytes() < 1) {
      problem(path + ".passthrough.maxBodyBytes", "must be at least 1");
    }
    if (c.provider() == ProviderKind.AZURE_OPENAI
        && (c.azure() == null || blank(c.azure().deployment()))) {
      problem(path + ".azure.deployment", "is required for provider azure-openai");
    }
    if (c.provider() == ProviderKind.BEDROCK
        && (c.bedrock() == null || blank(c.bedrock().region()))) {
      problem(path + ".bedrock.region", "is required for provider bedrock");
    }
    if (c.provider() == ProviderKind.VERTEX_AI
        && (c.vertex() == null || blank(c.vertex().project()) || blank(c.vertex().location()))) {
      problem(path + ".vertex", "project and location are required for provider vertex-ai");
    }
    if (c.limits() != null) {
      atLeastOne(path + ".limits.requestsPerMinute", c.limits().requestsPerMinute());
      atLeastOne(path + ".limits.tokensPerMinute", c.limits().tokensPerMinute());
      atLeastOne(path + ".limits.tokensPerDay", c.limits().tokensPerDay());
    }
    notNegative(path + ".markupPercent", c.markupPercent());
    Set<String> priced = new HashSet<>();
    for (int i = 0; i < c.prices().size(); i++) {
      ModelPrice p = c.prices().get(i);
      String pp = path + ".prices[" + (blank(p.model()) ? i : p.model()) + "]";
      if (blank(p.model())) {
        problem(pp + ".model", "is required");
      } else if (!priced.add(p.model())) {
        problem(pp + ".model", "is priced twice");
      }
      if (p.input() == null) {
        problem(pp + ".input", "is required (USD per million input tokens)");
      }
      if (p.output() == null) {
        problem(pp + ".output", "is required (USD per million output tokens)");
      }
      notNegative(pp + ".input", p.input());
      notNegative(pp + ".output", p.output());
      notNegative(pp + ".cacheRead", p.cacheRead());
      notNegative(pp + ".cacheWrite", p.cacheWrite());
    }
    positive(path + ".healthCheck.interval", c.healthCheck().interval());
  }

  private void budget(String path, BudgetConfig b) {
    if (b.limit() == null) {
      problem(path + ".limit", "is required (USD per period)");
    } else if (b.limit().signum() <= 0) {
      problem(path + ".limit", "must be more than 0");
    }
    for (Integer a : b.alerts()) {
      if (a == null || a < 1 || a > 100) {
        problem(path + ".alerts", "thresholds are percentages from 1 to 100, got " + a);
      }
    }
    if (b.onExceeded() == BudgetConfig.ExceededAction.DOWNGRADE) {
      if (b.downgrade() == null
          || (b.downgrade().tier() == null) == (b.downgrade().target() == null)) {
        problem(
            path + ".downgrade",
            "name exactly one of tier and target when onExceeded is Downgrade");
      }
    }
    if (b.downgrade() != null && b.downgrade().target() != null) {
      targetRef(path + ".downgrade.target", b.downgrade().target());
    }
    if (b.perCaller() != null) {
      header(path + ".perCaller.header", b.perCaller().header());
      if (b.perCaller().limit() == null || b.perCaller().limit().signum() <= 0) {
        problem(path + ".perCaller.limit", "must be more than 0");
      }
    }
    for (String route : b.routes()) {
      if (config.route(route).isEmpty()) {
        problem(path + ".routes", "route '" + route + "' is not declared");
      }
    }
  }

  private void route(String path, RouteConfig r) {
    if (r.tiers().isEmpty()) {
      problem(path + ".tiers", "needs at least one tier");
    }
    Set<String> tierNames = new HashSet<>();
    for (int t = 0; t < r.tiers().size(); t++) {
      RouteConfig.Tier tier = r.tiers().get(t);
      String tp = path + ".tiers[" + (blank(tier.name()) ? t : tier.name()) + "]";
      if (blank(tier.name()) || !DNS_LABEL.matcher(tier.name()).matches()) {
        problem(tp + ".name", "must be a DNS label (lower case letters, digits, '-')");
      } else if (!tierNames.add(tier.name())) {
        problem(tp + ".name", "is used by two tiers; tier names must be unique within a route");
      }
      tier(tp, tier);
    }
    if (r.classifier() != null) {
      RouteConfig.Classifier c = r.classifier();
      if (c.target() == null) {
        problem(path + ".classifier.target", "is required");
      } else {
        targetRef(path + ".classifier.target", c.target());
      }
      if (c.labels().isEmpty()) {
        problem(path + ".classifier.labels", "needs at least one label");
      }
      if (!tierNames.contains(c.defaultTier())) {
        problem(path + ".classifier.defaultTier", "tier '" + c.defaultTier() + "' is not declared");
      }
      positive(path + ".classifier.timeout", c.timeout());
    }
    if (r.escalation() != null) {
      RouteConfig.Escalation e = r.escalation();
      if (!tierNames.contains(e.fromTier())) {
        problem(path + ".escalation.fromTier", "tier '" + e.fromTier() + "' is not declared");
      }
      if (!tierNames.contains(e.toTier())) {
        problem(path + ".escalation.toTier", "tier '" + e.toTier() + "' is not declared");
      }
      if (blank(e.lowConfidenceMarker())) {
        problem(path + ".escalation.lowConfidenceMarker", "is required");
      }
    }
    RouteConfig.Retry retry = r.retry();
    if (retry.attempts() < 0 || retry.attempts() > 10) {
      problem(path + ".retry.attempts", "must be between 0 and 10, got " + retry.attempts());
    }
    positive(path + ".retry.backoffBase", retry.backoffBase());
    positive(path + ".retry.backoffCap", retry.backoffCap());
    if (retry.backoffCap().compareTo(retry.backoffBase()) < 0) {
      problem(path + ".retry.backoffCap", "must not be shorter than backoffBase");
    }
    positive(path + ".timeouts.connect", r.timeouts().connect());
    positive(path + ".timeouts.firstToken", r.timeouts().firstToken());
    positive(path + ".timeouts.total", r.timeouts().total());
    RouteConfig.CircuitBreaker cb = r.circuitBreaker();
    if (cb.errorRatePercent() < 1 || cb.errorRatePercent() > 100) {
      problem(path + ".circuitBreaker.errorRatePercent", "must be between 1 and 100");
    }
    if (cb.minRequests() < 1) {
      problem(path + ".circuitBreaker.minRequests", "must be at least 1");
    }
    positive(path + ".circuitBreaker.window", cb.window());
    positive(path + ".circuitBreaker.cooldown", cb.cooldown());
    positive(path + ".circuitBreaker.slowFirstToken", cb.slowFirstToken());
    if (r.rateLimit() != null) {
      RouteConfig.RateLimit rl = r.rateLimit();
      atLeastOne(path + ".rateLimit.requestsPerMinute", rl.requestsPerMinute());
      atLeastOne(path + ".rateLimit.tokensPerMinute", rl.tokensPerMinute());
      if (rl.callerHeader() != null) {
        header(path + ".rateLimit.callerHeader", rl.callerHeader());
      }
      if (rl.perCaller() != null && rl.callerHeader() == null) {
        problem(path + ".rateLimit.perCaller", "needs callerHeader to tell callers apart");
      }
      notNegative(path + ".rateLimit.maxQueueWait", rl.maxQueueWait());
      atLeastOne(path + ".rateLimit.tokensPerDay", rl.tokensPerDay());
      atLeastOne(path + ".rateLimit.maxInFlight", rl.maxInFlight());
      if (rl.maxQueue() < 0) {
        problem(path + ".rateLimit.maxQueue", "must not be negative");
      }
      if (rl.maxQueue() > 0 && rl.maxInFlight() == null) {
        problem(path + ".rateLimit.maxQueue", "needs maxInFlight");
      }
    }
    RouteConfig.ResponseCache rc = r.cache().response();
    if (rc.enabled()) {
      positive(path + ".cache.response.ttl", rc.ttl());
      if (rc.maxEntries() < 1) {
        problem(path + ".cache.response.maxEntries", "must be at least 1");
      }
      if (rc.maxSizeBytes() < 1) {
        problem(path + ".cache.response.maxSize", "must be at least 1 byte");
      }
      if (rc.backend() == RouteConfig.CacheBackend.REDIS
          && (rc.redis() == null || blank(rc.redis().url()))) {
        problem(path + ".cache.response.redis.url", "is required when backend is redis");
      } else if (rc.backend() == RouteConfig.CacheBackend.REDIS) {
        String secretInUrl = redisUrlSecret(rc.redis());
        if (secretInUrl != null) {
          problem(path + ".cache.response.redis.url", secretInUrl);
        }
      }
    }
    if (r.affinity() != null) {
      header(path + ".affinity.header", r.affinity().header());
    }
    if (r.budget() != null && config.budget(r.budget()).isEmpty()) {
      problem(path + ".budget", "budget '" + r.budget() + "' is not declared");
    }
  }

  private void tier(String path, RouteConfig.Tier tier) {
    if (tier.targets().isEmpty()) {
      problem(path + ".targets", "needs at least one target");
    }
    int weights = 0;
    for (int i = 0; i < tier.targets().size(); i++) {
      RouteConfig.Target t = tier.targets().get(i);
      String tp = path + ".targets[" + i + "]";
      targetRef(tp, t.ref());
      if (t.weight() < 0 || t.weight() > 100) {
        problem(tp + ".weight", "must be between 0 and 100, got " + t.weight());
      } else {
        weights += t.weight();
      }
    }
    if (!tier.targets().isEmpty() && weights == 0) {
      problem(path + ".targets", "all weights are 0; at least one target must get traffic");
    }
    for (int i = 0; i < tier.fallbacks().size(); i++) {
      targetRef(path + ".fallbacks[" + i + "]", tier.fallbacks().get(i));
    }
    if (tier.maxTokens() != null && tier.maxTokens() < 1) {
      problem(path + ".maxTokens", "must be at least 1");
    }
    RouteConfig.Match m = tier.when();
    if (m != null) {
      if (m.minInputTokens() != null && m.minInputTokens() < 0) {
        problem(path + ".when.minInputTokens", "must not be negative");
      }
      if (m.minInputTokens() != null
          && m.maxInputTokens() != null
          && m.minInputTokens() > m.maxInputTokens()) {
        problem(
            path + ".when", "minInputTokens is larger than maxInputTokens; no request can match");
      }
      for (int i = 0; i < m.patterns().size(); i++) {
        try {
          Pattern.compile(m.patterns().get(i));
        } catch (PatternSyntaxException e) {
          problem(
              path + ".when.patterns[" + i + "]",
              "is not a valid regular expression: " + e.getDescription());
        }
      }
      for (int i = 0; i < m.headers().size(); i++) {
        header(path + ".when.headers[" + i + "].name", m.headers().get(i).name());
      }
    }
  }

  private void targetRef(String path, RouteConfig.TargetRef ref) {
    if (blank(ref.credential())) {
      problem(path + ".credential", "is required");
    } else if (config.credential(ref.credential()).isEmpty()) {
      problem(path + ".credential", "credential '" + ref.credential() + "' is not declared");
    }
    if (blank(ref.model())) {
      problem(path + ".model", "is required");
    } else if (!MODEL_NAME.matcher(ref.model()).matches()) {
      problem(path + ".model", "'" + ref.model() + "' is not a valid model name");
    }
  }

  private void header(String path, String name) {
    if (blank(name) || !HEADER_NAME.matcher(name).matches()) {
      problem(path, "'" + name + "' is not a valid HTTP header name");
    }
  }

  private void positive(String path, Duration d) {
    if (d != null && (d.isNegative() || d.isZero())) {
      problem(path, "must be longer than 0");
    }
  }

  private void notNegative(String path, Duration d) {
    if (d != null && d.isNegative()) {
      problem(path, "must not be negative");
    }
  }

  private void notNegative(String path, BigDecimal v) {
    if (v != null && v.signum() < 0) {
      problem(path, "must not be negative, got " + v.toPlainString());
    }
  }

  private void atLeastOne(String path, Number n) {
    if (n != null && n.longValue() < 1) {
      problem(path, "must be at least 1, got " + n);
    }
  }

  private static boolean isHttpUrl(String s) {
    try {
      URI u = URI.create(s);
      return ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * Why a Redis URL carries a secret, or null. The configuration is a ConfigMap, readable by anyone
   * who can read the namespace's ConfigMaps and logged in part: a password belongs in a Secret
   * ({@code passwordSecretRef}, mounted as a file). Lettuce reads {@code redis://user:pass@host},
   * {@code redis://pass@host} (without a password file) and {@code ?password=} as passwords.
   */
  static String redisUrlSecret(RouteConfig.Redis redis) {
    java.net.URI uri;
    try {
      uri = java.net.URI.create(redis.url().trim());
    } catch (IllegalArgumentException e) {
      return "is not a valid URL";
    }
    String userInfo = uri.getRawUserInfo();
    String refuse =
        "must not contain a password: put it in a Secret and reference it with"
            + " redis.passwordSecretRef (an ACL user name, redis://user@host, is fine with it)";
    if (userInfo != null && (userInfo.contains(":") || redis.passwordFile() == null)) {
      return refuse;
    }
    String query = uri.getRawQuery();
    if (query != null) {
      for (String pair : query.split("&")) {
        if (pair.toLowerCase(java.util.Locale.ROOT).startsWith("password=")) {
          return refuse;
        }
      }
    }
    return null;
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private void problem(String path, String message) {
    problems.add(path + ": " + message);
  }
}
