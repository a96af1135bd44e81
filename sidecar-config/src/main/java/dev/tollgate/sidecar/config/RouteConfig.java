package dev.tollgate.sidecar.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;

/**
 * One LLMRoute as the sidecar needs it: what a model name means in the namespace. Defaults are
 * filled in here (mirroring the CRD's descriptions) so that every reader sees the same effective
 * values and the rendered ConfigMap shows them.
 *
 * @param model the name applications ask for, e.g. {@code support-chat}
 * @param defaultRoute serves model names that no route declares
 * @param tiers ordered; the first whose {@code when} matches serves the request
 * @param budget name of the Budget this route draws from, or null
 * @param embeddingDimensions the vector length declared for embedding models of the route's targets
 *     and fallbacks (only those that declare one)
 */
public record RouteConfig(
    String model,
    @JsonProperty("default") Boolean defaultRoute,
    List<Tier> tiers,
    Classifier classifier,
    Escalation escalation,
    Retry retry,
    Timeouts timeouts,
    CircuitBreaker circuitBreaker,
    RateLimit rateLimit,
    Cache cache,
    Affinity affinity,
    String budget,
    List<Dimensions> embeddingDimensions) {

  public RouteConfig {
    embeddingDimensions = Defaults.list(embeddingDimensions);
    defaultRoute = Defaults.or(defaultRoute, false);
    tiers = Defaults.list(tiers);
    retry = Defaults.or(retry, Retry.defaults());
    timeouts = Defaults.or(timeouts, Timeouts.defaults());
    circuitBreaker = Defaults.or(circuitBreaker, CircuitBreaker.defaults());
    cache = Defaults.or(cache, new Cache(null, null));
  }

  /** A route named {@code model} with {@code tiers}; the rest is set by name (null: default). */
  public static Builder builder(String model, List<Tier> tiers) {
    return new Builder(model, tiers);
  }

  /** Builds a {@link RouteConfig}; unset fields take the record's defaults. */
  public static final class Builder {
    private final String model;
    private final List<Tier> tiers;
    private Boolean defaultRoute;
    private Classifier classifier;
    private Escalation escalation;
    private Retry retry;
    private Timeouts timeouts;
    private CircuitBreaker circuitBreaker;
    private RateLimit rateLimit;
    private Cache cache;
    private Affinity affinity;
    private String budget;
    private List<Dimensions> embeddingDimensions;

    private Builder(String model, List<Tier> tiers) {
      this.model = model;
      this.tiers = tiers;
    }

    public Builder defaultRoute(Boolean defaultRoute) {
      this.defaultRoute = defaultRoute;
      return this;
    }

    public Builder classifier(Classifier classifier) {
      this.classifier = classifier;
      return this;
    }

    public Builder escalation(Escalation escalation) {
      this.escalation = escalation;
      return this;
    }

    public Builder retry(Retry retry) {
      this.retry = retry;
      return this;
    }

    public Builder timeouts(Timeouts timeouts) {
      this.timeouts = timeouts;
      return this;
    }

    public Builder circuitBreaker(CircuitBreaker circuitBreaker) {
      this.circuitBreaker = circuitBreaker;
      return this;
    }

    public Builder rateLimit(RateLimit rateLimit) {
      this.rateLimit = rateLimit;
      return this;
    }

    public Builder cache(Cache cache) {
      this.cache = cache;
      return this;
    }

    public Builder affinity(Affinity affinity) {
      this.affinity = affinity;
      return this;
    }

    public Builder budget(String budget) {
      this.budget = budget;
      return this;
    }

    public Builder embeddingDimensions(List<Dimensions> embeddingDimensions) {
      this.embeddingDimensions = embeddingDimensions;
      return this;
    }

    public RouteConfig build() {
      return new RouteConfig(
          model,
          defaultRoute,
          tiers,
          classifier,
          escalation,
          retry,
          timeouts,
          circuitBreaker,
          rateLimit,
          cache,
          affinity,
          budget,
          embeddingDimensions);
    }
  }

  /** The declared vector length of {@code model} at {@code credential}, or null when undeclared. */
  public Integer dimensionsOf(String credential, String model) {
    for (Dimensions d : embeddingDimensions) {
      if (d.credential().equals(credential) && d.model().equals(model)) {
        return d.dimensions();
      }
    }
    return null;
  }

  /** An embedding model's declared vector length. */
  public record Dimensions(String credential, String model, Integer dimensions) {}

  /** One tier: when it applies, where it sends requests, what it falls back to. */
  public record Tier(
      String name, Match when, List<Target> targets, List<TargetRef> fallbacks, Integer maxTokens) {
    public Tier {
      targets = Defaults.list(targets);
      fallbacks = Defaults.list(fallbacks);
    }
  }

  /** Rules on a request; all given rules must hold. */
  public record Match(
      Integer minInputTokens,
      Integer maxInputTokens,
      List<String> keywords,
      List<String> patterns,
      List<HeaderMatch> headers,
      List<String> classifierLabels) {
    public Match {
      keywords = Defaults.list(keywords);
      patterns = Defaults.list(patterns);
      headers = Defaults.list(headers);
      classifierLabels = Defaults.list(classifierLabels);
    }
  }

  /** A header rule; empty {@code values} means the header only has to be present. */
  public record HeaderMatch(String name, List<String> values) {
    public HeaderMatch {
      values = Defaults.list(values);
    }
  }

  /** A provider model reached through a credential, with a relative split weight (default 100). */
  public record Target(String credential, String model, Integer weight) {
    public Target {
      weight = Defaults.or(weight, 100);
    }

    public TargetRef ref() {
      return new TargetRef(credential, model);
    }
  }

  /** A provider model reached through a credential. */
  public record TargetRef(String credential, String model) {}

  /** Small-model call that labels a request before tier selection (seed "Pattern 2"). */
  public record Classifier(
      TargetRef target,
      String prompt,
      List<String> labels,
      String defaultTier,
      Duration timeout,
      Duration cacheTtl) {
    public Classifier {
      labels = Defaults.list(labels);
      timeout = Defaults.or(timeout, Duration.ofSeconds(2));
      cacheTtl = Defaults.or(cacheTtl, Duration.ofMinutes(10));
    }
  }

  /** Cheap first; an answer starting with the marker is asked again of a stronger tier. */
  public record Escalation(String fromTier, String toTier, String lowConfidenceMarker) {}

  /** Which failures retry and how long to wait between attempts. */
  public record Retry(
      Integer attempts, Duration backoffBase, Duration backoffCap, List<RetryOn> retryOn) {
    public Retry {
      attempts = Defaults.or(attempts, 2);
      backoffBase = Defaults.or(backoffBase, Duration.ofMillis(250));
      backoffCap = Defaults.or(backoffCap, Duration.ofSeconds(8));
      retryOn =
          retryOn == null || retryOn.isEmpty() ? List.of(RetryOn.values()) : List.copyOf(retryOn);
    }

    public static Retry defaults() {
      return new Retry(null, null, null, null);
    }
  }

  /** A retryable failure kind, spelled as in the CRD. */
  public enum RetryOn {
    @JsonProperty("RateLimited")
    RATE_LIMITED,
    @JsonProperty("ServerError")
    SERVER_ERROR,
    @JsonProperty("Timeout")
    TIMEOUT,
    @JsonProperty("ConnectionError")
    CONNECTION_ERROR
  }

  /** Upstream timeouts: connect (5s), first token (30s), whole request including stream (300s). */
  public record Timeouts(Duration connect, Duration firstToken, Duration total) {
    public Timeouts {
      connect = Defaults.or(connect, Duration.ofSeconds(5));
      firstToken = Defaults.or(firstToken, Duration.ofSeconds(30));
      total = Defaults.or(total, Duration.ofSeconds(300));
    }

    public static Timeouts defaults() {
      return new Timeouts(null, null, null);
    }
  }

  /** Passive health: eject a target crossing a threshold, probe it after a cooldown. */
  public record CircuitBreaker(
      Integer errorRatePercent,
      Duration slowFirstToken,
      Duration window,
      Integer minRequests,
      Duration cooldown) {
    public CircuitBreaker {
      errorRatePercent = Defaults.or(errorRatePercent, 10);
      slowFirstToken = Defaults.or(slowFirstToken, Duration.ofSeconds(2));
      window = Defaults.or(window, Duration.ofSeconds(60));
      minRequests = Defaults.or(minRequests, 20);
      cooldown = Defaults.or(cooldown, Duration.ofSeconds(30));
    }

    public static CircuitBreaker defaults() {
      return new CircuitBreaker(null, null, null, null, null);
    }

    // written out (every component is set by the constructor above): the sidecar compares a
    // target's breaker settings on each call, and a record's generated equals links an
    // invokedynamic call site on first use (7 method-handle classes spun, 41 ms on the second
    // call at load ~13), which the AOT cache cannot keep (issue #24)
    @Override
    public boolean equals(Object o) {
      return o instanceof CircuitBreaker b
          && errorRatePercent.equals(b.errorRatePercent)
          && slowFirstToken.equals(b.slowFirstToken)
          && window.equals(b.window)
          && minRequests.equals(b.minRequests)
          && cooldown.equals(b.cooldown);
    }

    @Override
    public int hashCode() {
      int h = errorRatePercent.hashCode();
      h = 31 * h + slowFirstToken.hashCode();
      h = 31 * h + window.hashCode();
      h = 31 * h + minRequests.hashCode();
      return 31 * h + cooldown.hashCode();
    }
  }

  /**
   * Route limits (null: unlimited), optionally per caller keyed by a header.
   *
   * @param tokensPerDay tokens per UTC day in this sidecar
   * @param maxInFlight calls of the route served at once by this sidecar
   * @param maxQueue calls waiting for an in-flight slot (each up to {@code maxQueueWait})
   */
  public record RateLimit(
      Integer requestsPerMinute,
      Long tokensPerMinute,
      String callerHeader,
      CallerLimit perCaller,
      Duration maxQueueWait,
      Boolean failoverWhenLimited,
      Long tokensPerDay,
      Integer maxInFlight,
      Integer maxQueue) {
    public RateLimit {
      maxQueueWait = Defaults.or(maxQueueWait, Duration.ZERO);
      failoverWhenLimited = Defaults.or(failoverWhenLimited, true);
      maxQueue = Defaults.or(maxQueue, 0);
    }

    /** Limits without a daily or in-flight cap (configuration older than those fields). */
    public RateLimit(
        Integer requestsPerMinute,
        Long tokensPerMinute,
        String callerHeader,
        CallerLimit perCaller,
        Duration maxQueueWait,
        Boolean failoverWhenLimited) {
      this(
          requestsPerMinute,
          tokensPerMinute,
          callerHeader,
          perCaller,
          maxQueueWait,
          failoverWhenLimited,
          null,
          null,
          null);
    }
  }

  /** Limits for one caller (null: unlimited). */
  public record CallerLimit(Integer requestsPerMinute, Long tokensPerMinute) {}

  /** Response cache and provider prompt caching; both off by default. */
  public record Cache(ResponseCache response, PromptCaching promptCaching) {
    public Cache {
      response = Defaults.or(response, new ResponseCache(null, null, null, null, null, null, null));
      promptCaching = Defaults.or(promptCaching, new PromptCaching(null, null));
    }
  }

  /**
   * Exact-match replay of identical requests.
   *
   * @param maxTemperature requests sampling hotter than this are not cached; a request without a
   *     temperature counts as the providers' default of 1
   * @param cacheAboveMaxTemperature cache those requests anyway
   */
  public record ResponseCache(
      Boolean enabled,
      Duration ttl,
      Integer maxEntries,
      Long maxSizeBytes,
      BigDecimal maxTemperature,
      CacheBackend backend,
      Redis redis,
      Boolean cacheAboveMaxTemperature,
      StaleOnError serveStaleOnError) {
    public ResponseCache {
      enabled = Defaults.or(enabled, false);
      ttl = Defaults.or(ttl, Duration.ofHours(1));
      maxEntries = Defaults.or(maxEntries, 10_000);
      maxSizeBytes = Defaults.or(maxSizeBytes, 32L * 1024 * 1024);
      maxTemperature = Defaults.or(maxTemperature, BigDecimal.ZERO);
      backend = Defaults.or(backend, CacheBackend.MEMORY);
      cacheAboveMaxTemperature = Defaults.or(cacheAboveMaxTemperature, false);
      serveStaleOnError = Defaults.or(serveStaleOnError, new StaleOnError(null, null));
    }

    /** A cache without {@code serveStaleOnError} (configuration older than that field). */
    public ResponseCache(
        Boolean enabled,
        Duration ttl,
        Integer maxEntries,
        Long maxSizeBytes,
        BigDecimal maxTemperature,
        CacheBackend backend,
        Redis redis,
        Boolean cacheAboveMaxTemperature) {
      this(
          enabled,
          ttl,
          maxEntries,
          maxSizeBytes,
          maxTemperature,
          backend,
          redis,
          cacheAboveMaxTemperature,
          null);
    }

    /**
     * How long an answer is kept: its ttl, or longer when stale answers may be served, up to their
     * {@code maxAge}.
     */
    public Duration retention() {
      return serveStaleOnError.enabled() && serveStaleOnError.maxAge().compareTo(ttl) > 0
          ? serveStaleOnError.maxAge()
          : ttl;
    }

    /** A cache without {@code cacheAboveMaxTemperature} (configuration older than that field). */
    public ResponseCache(
        Boolean enabled,
        Duration ttl,
        Integer maxEntries,
        Long maxSizeBytes,
        BigDecimal maxTemperature,
        CacheBackend backend,
        Redis redis) {
      this(enabled, ttl, maxEntries, maxSizeBytes, maxTemperature, backend, redis, null);
    }
  }

  /**
   * Answers from the response cache, past their ttl too, when every target of a request failed.
   *
   * @param maxAge the oldest answer served, counted from when it was cached
   */
  public record StaleOnError(Boolean enabled, Duration maxAge) {
    public StaleOnError {
      enabled = Defaults.or(enabled, false);
      maxAge = Defaults.or(maxAge, Duration.ofHours(24));
    }
  }

  /** Where cached answers live. */
  public enum CacheBackend {
    @JsonProperty("memory")
    MEMORY,
    @JsonProperty("redis")
    REDIS
  }

  /**
   * A shared Redis; the password comes from a mounted Secret file, never inline. {@code keyFile} is
   * the namespace's cache key ({@link CacheKeySecret}): entries are named and sealed with it, and
   * without it the route caches in the pod only.
   */
  public record Redis(String url, String passwordFile, String keyFile) {
    public Redis(String url, String passwordFile) {
      this(url, passwordFile, null);
    }
  }

  /** Mark the stable prompt prefix for provider-side caching. */
  public record PromptCaching(Boolean enabled, Integer minTokens) {
    public PromptCaching {
      enabled = Defaults.or(enabled, false);
    }
  }

  /** Keep a caller on one target of a weighted split, keyed by this request header. */
  public record Affinity(String header) {}
}
