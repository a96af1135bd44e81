package dev.tollgate.operator.render;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.api.v1alpha1.SecretKeyRef;
import dev.tollgate.sidecar.config.BudgetConfig;
import dev.tollgate.sidecar.config.CacheKeySecret;
import dev.tollgate.sidecar.config.CredentialAuth;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.Durations;
import dev.tollgate.sidecar.config.ModelPrice;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SecretMounts;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * Translates the custom resources into the sidecar's own configuration records. Secrets become the
 * paths of their mounted files ({@link SecretMounts}, the layout the injection webhook mounts);
 * values are never read. Input is expected to have passed validation; the sidecar contract's
 * validator checks the result again.
 */
public final class SidecarRecords {

  /** The route as the sidecar sees it, drawing from the named budget (or none). */
  public RouteConfig route(LLMRoute route, String budget) {
    LLMRouteSpec s = route.getSpec();
    return RouteConfig.builder(
            s.getModel(), s.getTiers().stream().map(SidecarRecords::tier).toList())
        .defaultRoute(s.getDefaultRoute())
        .classifier(map(s.getClassifier(), SidecarRecords::classifier))
        .escalation(
            map(
                s.getEscalation(),
                e ->
                    new RouteConfig.Escalation(
                        e.getFromTier(), e.getToTier(), e.getLowConfidenceMarker())))
        .retry(map(s.getRetry(), SidecarRecords::retry))
        .timeouts(
            map(
                s.getTimeouts(),
                t ->
                    new RouteConfig.Timeouts(
                        duration(t.getConnect()),
                        duration(t.getFirstToken()),
                        duration(t.getTotal()))))
        .circuitBreaker(
            map(
                s.getCircuitBreaker(),
                c ->
                    new RouteConfig.CircuitBreaker(
                        c.getErrorRatePercent(),
                        duration(c.getSlowFirstToken()),
                        duration(c.getWindow()),
                        c.getMinRequests(),
                        duration(c.getCooldown()))))
        .rateLimit(map(s.getRateLimit(), SidecarRecords::rateLimit))
        .cache(map(s.getCache(), this::cache))
        .affinity(map(s.getAffinity(), a -> new RouteConfig.Affinity(a.getHeader())))
        .budget(budget)
        .embeddingDimensions(embeddingDimensions(s))
        .build();
  }

  /** The embedding dimensions the route's targets and fallbacks declare, once per model. */
  private static List<RouteConfig.Dimensions> embeddingDimensions(LLMRouteSpec s) {
    java.util.Map<String, RouteConfig.Dimensions> out = new java.util.LinkedHashMap<>();
    for (LLMRouteSpec.Tier t : s.getTiers()) {
      for (LLMRouteSpec.Target x : t.getTargets()) {
        if (x.getDimensions() != null) {
          out.putIfAbsent(
              x.getCredential() + "/" + x.getModel(),
              new RouteConfig.Dimensions(x.getCredential(), x.getModel(), x.getDimensions()));
        }
      }
      for (LLMRouteSpec.Fallback f : t.getFallbacks()) {
        if (f.getDimensions() != null) {
          out.putIfAbsent(
              f.getCredential() + "/" + f.getModel(),
              new RouteConfig.Dimensions(f.getCredential(), f.getModel(), f.getDimensions()));
        }
      }
    }
    return List.copyOf(out.values());
  }

  /** The credential as the sidecar sees it: endpoint, key file path, limits, prices. */
  public CredentialConfig credential(ProviderCredential credential) {
    ProviderCredentialSpec s = credential.getSpec();
    ProviderKind kind = ProviderKind.fromWireName(s.getProvider().wireName());
    CredentialAuth auth = auth(s.getAuth());
    SecretKeyRef ref = auth.usesSecret() ? s.getSecretRef() : null;
    ProviderCredentialSpec.Pricing pricing = s.getPricing();
    return CredentialConfig.builder(credential.getMetadata().getName(), kind)
        .endpoint(endpoint(s))
        .apiKeyFile(ref == null ? null : SecretMounts.keyFile(ref.getName(), ref.getKey()))
        .azure(
            map(
                s.getAzure(),
                a -> new CredentialConfig.Azure(a.getDeployment(), a.getApiVersion())))
        .bedrock(
            map(
                s.getBedrock(),
                b -> new CredentialConfig.Bedrock(b.getRegion(), b.getInferenceProfile())))
        .vertex(
            map(s.getVertex(), v -> new CredentialConfig.Vertex(v.getProject(), v.getLocation())))
        // the account's whole limits: each sidecar's share of them comes with the report replies
        .limits(
            map(
                s.getLimits(),
                l ->
                    new CredentialConfig.Limits(
                        l.getRequestsPerMinute(), l.getTokensPerMinute(), l.getTokensPerDay())))
        .prices(
            pricing == null
                ? List.of()
                : pricing.getModels().stream()
                    .map(
                        p ->
                            new ModelPrice(
                                p.getModel(),
                                money(p.getInput()),
                                money(p.getOutput()),
                                money(p.getCacheRead()),
                                money(p.getCacheWrite())))
                    .toList())
        .markupPercent(pricing == null ? null : money(pricing.getMarkupPercent()))
        .healthCheck(
            map(
                s.getHealthCheck(),
                h ->
                    new CredentialConfig.HealthCheck(
                        h.getEnabled(),
                        duration(h.getInterval()),
                        h.getModel(),
                        h.getFailureThreshold())))
        .passthrough(
            map(
                s.getPassthrough(),
                p ->
                    new CredentialConfig.Passthrough(
                        p.getEnabled(), p.getPaths(), p.getIsDefault(), p.getMaxBodyBytes())))
        .auth(auth)
        .build();
  }

  /** The credential's auth for the sidecar; none given means an API key. */
  static CredentialAuth auth(dev.tollgate.api.v1alpha1.CredentialAuth a) {
    if (a == null || a.getType() == null) {
      return CredentialAuth.API_KEY;
    }
    var azure = a.getAzure();
    return new CredentialAuth(
        CredentialAuth.Kind.fromWireName(a.getType().wireName()),
        azure == null ? null : azure.getTenantId(),
        azure == null ? null : azure.getClientId(),
        azure == null ? null : azure.getAuthorityHost());
  }

  /** The budget as the sidecar sees it, covering the given route models (empty: all). */
  public BudgetConfig budget(Budget budget, List<String> routeModels) {
    BudgetSpec s = budget.getSpec();
    return new BudgetConfig(
        budget.getMetadata().getName(),
        money(s.getLimit()),
        map(s.getPeriod(), p -> BudgetConfig.Period.valueOf(p.name())),
        s.getAlerts(),
        map(s.getOnExceeded(), a -> BudgetConfig.ExceededAction.valueOf(a.name())),
        map(
            s.getDowngrade(),
            d ->
                new BudgetConfig.Downgrade(
                    d.getTier(),
                    map(
                        d.getTarget(),
                        t -> new RouteConfig.TargetRef(t.getCredential(), t.getModel())))),
        routeModels,
        map(
            s.getPerCaller(),
            q ->
                new BudgetConfig.CallerQuota(q.getHeader(), money(q.getLimit()), q.getHashKeys())));
  }

  /**
   * The configured endpoint; for Bedrock and Vertex AI, whose URL depends on the account, the
   * regional endpoint derived the way the sidecar derives it, spelled out so the rendered
   * configuration shows where calls go; otherwise null (the provider's public default).
   */
  static String endpoint(ProviderCredentialSpec s) {
    if (s.getEndpoint() != null && !s.getEndpoint().isBlank()) {
      return s.getEndpoint();
    }
    return switch (s.getProvider()) {
      case BEDROCK -> "https://bedrock-runtime." + s.getBedrock().getRegion() + ".amazonaws.com";
      case VERTEX_AI ->
          "global".equals(s.getVertex().getLocation())
              ? "https://aiplatform.googleapis.com"
              : "https://" + s.getVertex().getLocation() + "-aiplatform.googleapis.com";
      default -> null;
    };
  }

  private static RouteConfig.Tier tier(LLMRouteSpec.Tier t) {
    return new RouteConfig.Tier(
        t.getName(),
        map(
            t.getWhen(),
            w ->
                new RouteConfig.Match(
                    w.getMinInputTokens(),
                    w.getMaxInputTokens(),
                    w.getKeywords(),
                    w.getPatterns(),
                    w.getHeaders().stream()
                        .map(h -> new RouteConfig.HeaderMatch(h.getName(), h.getValues()))
                        .toList(),
                    w.getClassifierLabels())),
        t.getTargets().stream()
            .map(x -> new RouteConfig.Target(x.getCredential(), x.getModel(), x.getWeight()))
            .toList(),
        t.getFallbacks().stream()
            .map(f -> new RouteConfig.TargetRef(f.getCredential(), f.getModel()))
            .toList(),
        t.getMaxTokens());
  }

  private static RouteConfig.Classifier classifier(LLMRouteSpec.Classifier c) {
    return new RouteConfig.Classifier(
        map(c.getTarget(), t -> new RouteConfig.TargetRef(t.getCredential(), t.getModel())),
        c.getPrompt(),
        c.getLabels(),
        c.getDefaultTier(),
        duration(c.getTimeout()),
        duration(c.getCacheTtl()));
  }

  private static RouteConfig.Retry retry(LLMRouteSpec.Retry r) {
    return new RouteConfig.Retry(
        r.getAttempts(),
        duration(r.getBackoffBase()),
        duration(r.getBackoffCap()),
        r.getRetryOn().stream().map(x -> RouteConfig.RetryOn.valueOf(x.name())).toList());
  }

  private static RouteConfig.RateLimit rateLimit(LLMRouteSpec.RateLimit r) {
    return new RouteConfig.RateLimit(
        r.getRequestsPerMinute(),
        r.getTokensPerMinute(),
        r.getCallerHeader(),
        map(
            r.getPerCaller(),
            p -> new RouteConfig.CallerLimit(p.getRequestsPerMinute(), p.getTokensPerMinute())),
        duration(r.getMaxQueueWait()),
        r.getFailoverWhenLimited(),
        r.getTokensPerDay(),
        r.getMaxInFlight(),
        r.getMaxQueue());
  }

  private RouteConfig.Cache cache(LLMRouteSpec.Cache c) {
    return new RouteConfig.Cache(
        map(
            c.getResponse(),
            r ->
                new RouteConfig.ResponseCache(
                    r.getEnabled(),
                    duration(r.getTtl()),
                    r.getMaxEntries(),
                    bytes(r.getMaxSize()),
                    money(r.getMaxTemperature()),
                    map(r.getBackend(), b -> RouteConfig.CacheBackend.valueOf(b.name())),
                    map(
                        r.getRedis(),
                        redis ->
                            new RouteConfig.Redis(
                                redis.getUrl(),
                                map(
                                    redis.getPasswordSecretRef(),
                                    ref -> SecretMounts.keyFile(ref.getName(), ref.getKey())),
                                CacheKeySecret.file())),
                    r.getCacheAboveMaxTemperature(),
                    map(
                        r.getServeStaleOnError(),
                        st ->
                            new RouteConfig.StaleOnError(
                                st.getEnabled(), duration(st.getMaxAge()))))),
        map(
            c.getPromptCaching(),
            p -> new RouteConfig.PromptCaching(p.getEnabled(), p.getMinTokens())));
  }

  /** {@code 64Mi}-style sizes (the CRD allows Ki, Mi, Gi or plain bytes). */
  static Long bytes(String size) {
    if (size == null) {
      return null;
    }
    long unit = 1;
    String digits = size;
    if (size.endsWith("Ki")) {
      unit = 1024L;
    } else if (size.endsWith("Mi")) {
      unit = 1024L * 1024;
    } else if (size.endsWith("Gi")) {
      unit = 1024L * 1024 * 1024;
    }
    if (unit > 1) {
      digits = size.substring(0, size.length() - 2);
    }
    return Math.multiplyExact(Long.parseLong(digits), unit);
  }

  private static Duration duration(String text) {
    return text == null ? null : Durations.parse(text);
  }

  private static BigDecimal money(String text) {
    return text == null ? null : new BigDecimal(text);
  }

  private static <A, B> B map(A value, Function<A, B> f) {
    return value == null ? null : f.apply(value);
  }
}
