package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import lombok.Data;
import lombok.NoArgsConstructor;

/** Desired state of an {@link LLMRoute}. */
@Data
@NoArgsConstructor
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@ValidationRule(
    value = "self.tiers.all(t, self.tiers.exists_one(u, u.name == t.name))",
    message = "tier names must be unique within a route")
public class LLMRouteSpec {
  @Required
  @Pattern(ApiFormats.MODEL_NAME)
  @JsonPropertyDescription("The model name applications ask for, e.g. support-chat.")
  private String model;

  @JsonProperty("default")
  @JsonPropertyDescription(
      "Serve requests naming a model that no route of the namespace declares. At most one route"
          + " per namespace should set it.")
  private Boolean defaultRoute;

  @Required
  @Size(min = 1, max = 16)
  @JsonPropertyDescription(
      "Ordered tiers; the first whose 'when' matches serves the request. A tier without 'when' is"
          + " the catch-all.")
  private List<Tier> tiers = new ArrayList<>();

  private Classifier classifier;
  private Escalation escalation;
  private Retry retry;
  private Timeouts timeouts;
  private CircuitBreaker circuitBreaker;
  private RateLimit rateLimit;
  private Cache cache;

  @JsonPropertyDescription(
      "Keep a caller on one target of a weighted split, keyed by this request header.")
  private Affinity affinity;

  @JsonPropertyDescription(
      "The Budget this route draws from; default: the namespace's Budget that selects it.")
  private LocalObjectRef budgetRef;

  /** One tier: when it applies, where it sends requests and what it falls back to. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public static class Tier {
    // maxLength bounds the cost the API server estimates for the uniqueness rule on tiers
    @Required
    @Size(max = 63)
    @Pattern(ApiFormats.DNS_LABEL)
    private String name;

    private Match when;

    @Required
    @Size(min = 1, max = 16)
    @JsonPropertyDescription("Weighted split among targets; weights are relative, 0-100 each.")
    private List<Target> targets = new ArrayList<>();

    @Size(max = 8)
    @JsonPropertyDescription("Used in this order when the targets fail or are unhealthy.")
    private List<Fallback> fallbacks = new ArrayList<>();

    @Min(1)
    @JsonPropertyDescription(
        "Cap on output tokens: clamps the caller's max_tokens and sets it when absent.")
    private Integer maxTokens;
  }

  /** Rules on a request; all given rules must hold. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public static class Match {
    @Min(0)
    @JsonPropertyDescription("Estimated input tokens at least this many.")
    private Integer minInputTokens;

    @Min(0)
    @JsonPropertyDescription("Estimated input tokens at most this many.")
    private Integer maxInputTokens;

    @JsonPropertyDescription(
        "The last user message contains any of these words (case-insensitive).")
    private List<String> keywords = new ArrayList<>();

    @JsonPropertyDescription("The last user message matches any of these regular expressions.")
    private List<String> patterns = new ArrayList<>();

    @JsonPropertyDescription("Request headers that must be present with one of the values.")
    private List<HeaderMatch> headers = new ArrayList<>();

    @JsonPropertyDescription("The classifier returned one of these labels.")
    private List<String> classifierLabels = new ArrayList<>();
  }

  /** A header rule, e.g. {@code x-tollgate-tier: premium}. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public static class HeaderMatch {
    @Required
    @Pattern(ApiFormats.HEADER_NAME)
    private String name;

    @JsonPropertyDescription("Accepted values (exact match); empty: the header is present.")
    private List<String> values = new ArrayList<>();
  }

  /** A provider model reached through a credential, with a split weight. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Target {
    @Required
    @Pattern(ApiFormats.DNS_SUBDOMAIN)
    @JsonPropertyDescription("Name of a ProviderCredential.")
    private String credential;

    @Required
    @Pattern(ApiFormats.MODEL_NAME)
    @JsonPropertyDescription("The provider's model id, e.g. claude-3-5-sonnet-20241022.")
    private String model;

    @Min(0)
    @Max(100)
    @JsonPropertyDescription("Relative share of the tier's traffic; default 100.")
    private Integer weight;

    @Min(1)
    @Max(65536)
    @JsonPropertyDescription(
        "For an embedding model: the length of its vectors, e.g. 1536. Embedding calls never fail"
            + " over to a target or fallback of other declared dimensions than the tier's first"
            + " target (their vectors could not be compared); the operator sets"
            + " EmbeddingDimensions=False on a route that mixes them.")
    private Integer dimensions;
  }

  /** A fallback target. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class TargetRef {
    @Required
    @Pattern(ApiFormats.DNS_SUBDOMAIN)
    private String credential;

    @Required
    @Pattern(ApiFormats.MODEL_NAME)
    private String model;
  }

  /** A fallback target, with the embedding dimensions it may declare. */
  @Data
  @NoArgsConstructor
  @lombok.EqualsAndHashCode(callSuper = true)
  @lombok.ToString(callSuper = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Fallback extends TargetRef {
    @Min(1)
    @Max(65536)
    @JsonPropertyDescription(
        "For an embedding model: the length of its vectors, e.g. 1536. Embedding calls never fail"
            + " over to a target or fallback of other declared dimensions than the tier's first"
            + " target (their vectors could not be compared); the operator sets"
            + " EmbeddingDimensions=False on a route that mixes them.")
    private Integer dimensions;
  }

  /** Small-model call that labels a request before tier selection (seed "Pattern 2"). */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public static class Classifier {
    @Required private TargetRef target;

    @JsonPropertyDescription(
        "Instructions for the classifier; the labels are appended. Default: a short prompt asking"
            + " for exactly one label.")
    private String prompt;

    @Required
    @Size(min = 1, max = 32)
    @JsonPropertyDescription("The labels the classifier may answer, e.g. SIMPLE, COMPLEX.")
    private List<String> labels = new ArrayList<>();

    @Required
    @Pattern(ApiFormats.DNS_LABEL)
    @JsonPropertyDescription(
        "Tier used when the classifier fails, times out or answers no declared label.")
    private String defaultTier;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("Give up on the classifier after this long; default 2s.")
    private String timeout;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("Cache labels by request hash for this long; default 10m.")
    private String cacheTtl;
  }

  /** Cheap first, escalate when the answer signals low confidence (seed "Pattern 3"). */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Escalation {
    @Required
    @Pattern(ApiFormats.DNS_LABEL)
    private String fromTier;

    @Required
    @Pattern(ApiFormats.DNS_LABEL)
    private String toTier;

    @Required
    @JsonPropertyDescription("An answer starting with this text is escalated, e.g. UNSURE.")
    private String lowConfidenceMarker;
  }

  /** Which failures retry, and how long to wait between attempts. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public static class Retry {
    @Min(0)
    @Max(10)
    @JsonPropertyDescription("Retries per target after the first attempt; default 2.")
    private Integer attempts;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("First backoff; doubles each retry. Default 250ms.")
    private String backoffBase;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("Largest backoff; default 8s.")
    private String backoffCap;

    @JsonPropertyDescription(
        "Failures that retry; default all of them. A 4xx caused by the request never retries.")
    private List<RetryOn> retryOn = new ArrayList<>();
  }

  /** A retryable failure kind. */
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

  /** Upstream timeouts. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Timeouts {
    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("TCP/TLS connect; default 5s.")
    private String connect;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("Time to first token (first response byte); default 30s.")
    private String firstToken;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("Whole request including the stream; default 300s.")
    private String total;
  }

  /** Passive health: eject a target that crosses a threshold, probe it after a cooldown. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class CircuitBreaker {
    @Min(1)
    @Max(100)
    @JsonPropertyDescription("Open when the error rate exceeds this percent; default 10.")
    private Integer errorRatePercent;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("Open when the p95 time to first token exceeds this; default 2s.")
    private String slowFirstToken;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("Sliding window for both rules; default 60s.")
    private String window;

    @Min(1)
    @JsonPropertyDescription("Requests in the window before the rules apply; default 20.")
    private Integer minRequests;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("How long an open circuit stays open before a probe; default 30s.")
    private String cooldown;
  }

  /** Rate limits of the route, optionally per caller. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "!has(self.maxQueue) || has(self.maxInFlight)",
      message = "maxQueue needs maxInFlight")
  public static class RateLimit {
    @Min(1)
    private Integer requestsPerMinute;

    @Min(1)
    private Long tokensPerMinute;

    @Min(1)
    @JsonPropertyDescription(
        "Tokens (input + output) per UTC day, in each sidecar; the day starts at 00:00 UTC.")
    private Long tokensPerDay;

    @Min(1)
    @Max(100000)
    @JsonPropertyDescription(
        "Calls of this route served at once by each sidecar (pod); further calls queue (maxQueue)"
            + " or get 429.")
    private Integer maxInFlight;

    @Min(0)
    @Max(100000)
    @JsonPropertyDescription(
        "Calls waiting for one of the maxInFlight slots, each for up to maxQueueWait, per sidecar;"
            + " beyond, 429 at once. Default 0.")
    private Integer maxQueue;

    @Pattern(ApiFormats.HEADER_NAME)
    @JsonPropertyDescription("Apply perCaller limits to each value of this header.")
    private String callerHeader;

    private CallerLimit perCaller;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("Wait up to this long for capacity before failing over; default 0.")
    private String maxQueueWait;

    @JsonPropertyDescription("Try another target with capacity before answering 429; default true.")
    private Boolean failoverWhenLimited;
  }

  /** Limits for one caller. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class CallerLimit {
    @Min(1)
    private Integer requestsPerMinute;

    @Min(1)
    private Long tokensPerMinute;
  }

  /** Response cache and provider prompt caching. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Cache {
    private ResponseCache response;
    private PromptCaching promptCaching;
  }

  /** Exact-match replay of identical requests. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ResponseCache {
    private Boolean enabled;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("How long an answer is replayed; default 1h.")
    private String ttl;

    @Min(1)
    @JsonPropertyDescription("Most entries kept per sidecar; default 10000.")
    private Integer maxEntries;

    @Pattern("^[0-9]+(Ki|Mi|Gi)?$")
    @JsonPropertyDescription("Most bytes kept per sidecar, e.g. 64Mi; default 32Mi.")
    private String maxSize;

    @Pattern("^[0-1](\\.[0-9]{1,3})?$|^2(\\.0{1,3})?$")
    @JsonPropertyDescription(
        "Requests with a higher temperature are not cached (their answers vary); a request that"
            + " sets no temperature samples at the provider's default of 1. Default 0.")
    private String maxTemperature;

    @JsonPropertyDescription(
        "Cache requests above maxTemperature too: identical requests then get the same answer"
            + " although a new call could answer differently. Default false.")
    private Boolean cacheAboveMaxTemperature;

    private CacheBackend backend;

    private RedisSettings redis;

    @JsonPropertyDescription(
        "When every target and fallback of a request fails, answer it from this cache, with"
            + " answers past their ttl kept for the purpose; marked x-tollgate-cache: stale.")
    private ServeStaleOnError serveStaleOnError;
  }

  /** Answers from the response cache, stale ones included, when every provider fails. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ServeStaleOnError {
    @JsonPropertyDescription("Default false.")
    private Boolean enabled;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription(
        "The oldest answer served, counted from when it was cached; answers are kept this long"
            + " (at least the ttl). Default 24h.")
    private String maxAge;
  }

  /** Where cached answers live. */
  public enum CacheBackend {
    @JsonProperty("memory")
    MEMORY,
    @JsonProperty("redis")
    REDIS
  }

  /** A Redis server shared by the namespace's sidecars. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class RedisSettings {
    @Required
    @Pattern("^rediss?://[^\\s]+$")
    @JsonPropertyDescription("redis://host:6379 or rediss:// for TLS; no password in the URL.")
    private String url;

    @JsonPropertyDescription("Password, from a Secret in this namespace.")
    private SecretKeyRef passwordSecretRef;
  }

  /** Provider-side caching of the stable prompt prefix. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class PromptCaching {
    private Boolean enabled;

    @Min(1)
    @JsonPropertyDescription(
        "Mark the prefix only when it has at least this many tokens; default: the model's minimum"
            + " (1024, or 2048 for Haiku models).")
    private Integer minTokens;
  }

  /** Sticky split per caller. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Affinity {
    @Required
    @Pattern(ApiFormats.HEADER_NAME)
    private String header;
  }
}
