package dev.tollgate.sidecar.metering;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The sidecar's Prometheus metrics. Labels are route, provider and model (plus the bounded token
 * type and error kind), never anything a caller typed or a secret.
 */
public final class ProxyMetrics {
  private static final double[] LATENCY_BOUNDS = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300
  };

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final Counter requests;
  private final Counter errors;
  private final Counter tokens;
  private final Counter cost;
  private final Counter unpriced;
  private final Counter usageMissing;
  private final Histogram latency;
  private final Histogram ttft;
  private final Gauge inFlight;
  private final Counter inFlightRejected;
  private final Counter configReloads;
  private final Counter configIntegrityFailures;
  private final Counter failovers;
  private final Counter translationSkips;
  private final Gauge credentialUp;
  private final Counter promptCacheMarked;

  /** Per route: cache-read and cache-write tokens over the sidecar's life, for the hit ratio. */
  private final Map<String, LongAdder[]> promptCacheTokens = new ConcurrentHashMap<>();

  private final Counter cacheRequests;
  private final Counter cacheSavedTokens;
  private final Counter cacheSavedCost;
  private final Counter cacheRedisErrors;
  private final Counter cacheRedisUnkeyed;
  private final Counter reportsRefused;
  private volatile java.util.function.LongSupplier droppedSpans = () -> 0;

  /** Distinct end users with a series of their own per sidecar; later ones count as _other. */
  public static final int MAX_USERS = 100;

  /** Distinct feature tags with series of their own per sidecar. */
  public static final int MAX_FEATURES = 20;

  private final BoundedLabel users = new BoundedLabel(MAX_USERS);
  private final BoundedLabel features = new BoundedLabel(MAX_FEATURES);
  private final Counter userRequests;
  private final Counter userCost;
  private final Counter featureRequests;
  private final Counter featureCost;
  private final Histogram featureTtft;
  private final Counter conversationsOverCost;
  private final Counter workloadRequests;
  private final Counter workloadCost;
  // the pod's own workload's {requests, cost} series, bound once: one per sidecar; null when
  // unknown
  private volatile CounterDataPoint[] workload;
  private volatile ConversationCosts conversations =
      new ConversationCosts(ConversationCosts.DEFAULT_THRESHOLD);

  public ProxyMetrics() {
    userRequests =
        counter(
            "tollgate_user_requests_total",
            "Calls per end user (x-tollgate-user, OpenAI user, Anthropic metadata.user_id; the"
                + " first 100 users of the sidecar, later ones as _other).",
            "user");
    userCost =
        counter(
            "tollgate_user_cost_usd_total",
            "Cost per end user in US dollars (bounded as tollgate_user_requests_total).",
            "user");
    featureRequests =
        counter(
            "tollgate_feature_requests_total",
            "Calls per feature tag (x-tollgate-feature; the first 20 tags, later ones as _other).",
            "route",
            "feature");
    featureCost =
        counter(
            "tollgate_feature_cost_usd_total",
            "Cost per feature tag in US dollars (bounded as tollgate_feature_requests_total).",
            "route",
            "feature");
    featureTtft =
        Histogram.builder()
            .name("tollgate_feature_time_to_first_token_seconds")
            .help("Time to the provider's first byte per model and feature tag (bounded tags).")
            .classicUpperBounds(LATENCY_BOUNDS)
            .classicOnly()
            .labelNames("model", "feature")
            .register(registry);
    conversationsOverCost =
        counter(
            "tollgate_conversations_over_cost_total",
            "Conversations (x-tollgate-conversation) whose cost in this sidecar reached the"
                + " threshold (TOLLGATE_CONVERSATION_COST_USD, default 2), counted once each, by"
                + " the route of the call that crossed it; no conversation label.",
            "route");
    workloadRequests =
        counter(
            "tollgate_workload_requests_total",
            "Calls of the pod's own workload as the webhook resolved it (one series per sidecar,"
                + " so bounded): sum by workload or service_account across pods.",
            "workload_kind",
            "workload",
            "service_account");
    workloadCost =
        counter(
            "tollgate_workload_cost_usd_total",
            "Cost of the pod's own workload in US dollars (one series per sidecar, as"
                + " tollgate_workload_requests_total).",
            "workload_kind",
            "workload",
            "service_account");
    io.prometheus.metrics.core.metrics.CounterWithCallback.builder()
        .name("tollgate_trace_spans_dropped_total")
        .help(
            "OpenTelemetry spans dropped because the export queue was full (the collector is slow"
                + " or unreachable); calls never wait for the export.")
        .callback(cb -> cb.call(droppedSpans.getAsLong()))
        .register(registry);
    requests = counter("tollgate_requests_total", "Calls handled.", "route", "provider", "model");
    errors =
        counter(
            "tollgate_errors_total",
            "Calls that failed, by kind.",
            "route",
            "provider",
            "model",
            "kind");
    tokens =
        counter(
            "tollgate_tokens_total",
            "Tokens reported by providers, by type (input, output, cache_read, cache_write).",
            "route",
            "provider",
            "model",
            "type");
    cost =
        counter(
            "tollgate_cost_usd_total",
            "Cost of calls in US dollars.",
            "route",
            "provider",
            "model");
    unpriced =
        counter(
            "tollgate_unpriced_requests_total",
            "Calls to a model with no known price: counted, not priced as zero.",
            "route",
            "provider",
            "model");
    usageMissing =
        counter(
            "tollgate_usage_incomplete_total",
            "Calls whose provider reported no or partial usage (missing usage, broken stream).",
            "route",
            "provider",
            "model");
    latency =
        Histogram.builder()
            .name("tollgate_request_duration_seconds")
            .help("Time from the request to the end of the answer.")
            .classicUpperBounds(LATENCY_BOUNDS)
            .classicOnly()
            .labelNames("route", "provider", "model")
            .register(registry);
    ttft =
        Histogram.builder()
            .name("tollgate_time_to_first_token_seconds")
            .help("Time from the request to the first byte of the provider's answer.")
            .classicUpperBounds(LATENCY_BOUNDS)
            .classicOnly()
            .labelNames("route", "provider", "model")
            .register(registry);
    inFlight =
        Gauge.builder()
            .name("tollgate_in_flight_requests")
            .help("Calls being served now.")
            .labelNames("route")
            .register(registry);
    configReloads =
        counter(
            "tollgate_config_reloads_total",
            "Configuration reloads, by result (applied, rejected).",
            "result");
    configIntegrityFailures =
        counter(
            "tollgate_config_integrity_failures_total",
            "Times the mounted configuration differed from the one the operator rendered and"
                + " announced (a tampered or stale ConfigMap); the sidecar ran the operator's copy.");
    failovers =
        counter(
            "tollgate_failovers_total",
            "Attempts that failed and moved the call on to another target or a retry.",
            "route",
            "provider",
            "model");
    translationSkips =
        counter(
            "tollgate_translation_skips_total",
            "Targets skipped for a call because their API cannot take what the request needs"
                + " (feature: image, image_url, document, document_url, response_format).",
            "route",
            "provider",
            "feature");
    credentialUp =
        Gauge.builder()
            .name("tollgate_credential_up")
            .help("Active health probe result of a credential: 1 up, 0 down.")
            .labelNames("credential")
            .register(registry);
    promptCacheMarked =
        counter(
            "tollgate_prompt_cache_marked_requests_total",
            "Provider requests (each attempt) whose stable prefix the sidecar marked for"
                + " provider prompt caching.",
            "route",
            "provider",
            "model");
    GaugeWithCallback.builder()
        .name("tollgate_prompt_cache_hit_ratio")
        .help(
            "Prompt cache reads / (reads + writes) in tokens since the sidecar started, per route;"
                + " absent until the route read or wrote a provider cache.")
        .labelNames("route")
        .callback(
            cb ->
                promptCacheTokens.forEach(
                    (route, rw) -> {
                      long read = rw[0].sum();
                      long total = read + rw[1].sum();
                      if (total > 0) {
                        cb.call((double) read / total, route);
                      }
                    }))
        .register(registry);
    cacheRequests =
        counter(
            "tollgate_response_cache_requests_total",
            "Requests to routes with a response cache, by result (hit, miss, bypass; stale: a miss"
                + " then answered from a stale entry because every target failed, counted again).",
            "route",
            "result");
    cacheSavedTokens =
        counter(
            "tollgate_response_cache_saved_tokens_total",
            "Tokens not sent to providers thanks to cache hits, by type (input, output).",
            "route",
            "type");
    cacheSavedCost =
        counter(
            "tollgate_response_cache_saved_usd_total",
            "US dollars not spent thanks to cache hits (the original calls' cost).",
            "route");
    cacheRedisErrors =
        counter(
            "tollgate_response_cache_redis_errors_total",
            "Failed Redis operations of the shared response cache (connect, get, set).",
            "op");
    reportsRefused =
        counter(
            "tollgate_reports_refused_total",
            "Usage reports the operator refused, by HTTP status: 400 and 413 (split or set aside), 403"
                + " (retried with backoff), 429 (retried after Retry-After).",
            "status");
    inFlightRejected =
        counter(
            "tollgate_in_flight_rejected_total",
            "Calls answered 429 by a route's maxInFlight cap, by reason (queue_full: the cap and"
                + " its queue were full; queue_timeout: no slot freed within maxQueueWait).",
            "route",
            "reason");
    cacheRedisUnkeyed =
        counter(
            "tollgate_response_cache_redis_unkeyed_total",
            "Routes configured for the Redis response cache that cache in the pod only, because"
                + " the namespace's cache key (Secret tollgate-cache-key) was not mounted.",
            "route");
  }

  /** A counter registered on this sidecar's registry. */
  private Counter counter(String name, String help, String... labels) {
    return Counter.builder().name(name).help(help).labelNames(labels).register(registry);
  }

  /** A call refused by its route's in-flight cap ({@code queue_full}, {@code queue_timeout}). */
  public void inFlightRejected(String route, String reason) {
    inFlightRejected.labelValues(route, reason).inc();
  }

  /**
   * The pod's own workload (Deployment, StatefulSet... as the webhook resolved it) and service
   * account (empty when unknown): from now on every call also counts under {@code
   * tollgate_workload_*}. Without it those metrics have no series.
   */
  public void workload(String kind, String name, String serviceAccount) {
    String[] labels = {kind, name, serviceAccount == null ? "" : serviceAccount};
    workload =
        new CounterDataPoint[] {
          workloadRequests.labelValues(labels), workloadCost.labelValues(labels)
        };
  }

  /** Where the count of dropped spans comes from (the tracer's export queue). */
  public void droppedSpans(java.util.function.LongSupplier source) {
    droppedSpans = source;
  }

  /** The sidecar marked a request's prefix for provider prompt caching. */
  public void promptCacheMarked(String route, String provider, String model) {
    promptCacheMarked.labelValues(route, label(provider), label(model)).inc();
  }

  /** A response cache lookup's result: hit, miss or bypass. */
  public void cacheResult(String route, String result) {
    cacheRequests.labelValues(route, result).inc();
  }

  /** What a cache hit saved: the original call's tokens and cost (null: unpriced). */
  public void cacheSaved(String route, dev.tollgate.sidecar.chat.Usage usage, BigDecimal usd) {
    cacheSavedTokens.labelValues(route, "input").inc(usage.promptTokens());
    cacheSavedTokens.labelValues(route, "output").inc(usage.outputTokens());
    if (usd != null) {
      cacheSavedCost.labelValues(route).inc(usd.doubleValue());
    }
  }

  /** The operator refused a usage report with {@code status}. */
  public void reportRefused(int status) {
    reportsRefused.labelValues(Integer.toString(status)).inc();
  }

  /** A Redis-cached route was built without Redis for want of the namespace's cache key. */
  public void cacheRedisUnkeyed(String route) {
    cacheRedisUnkeyed.labelValues(route).inc();
  }

  public void cacheRedisError(String op) {
    cacheRedisErrors.labelValues(op).inc();
  }

  /** The size of one route's in-process response cache. */
  public record CacheSample(String route, long entries, long bytes) {}

  /** Exports the response caches' entries and bytes, read from {@code sizes} at each scrape. */
  public void responseCacheSizes(Supplier<List<CacheSample>> sizes) {
    GaugeWithCallback.builder()
        .name("tollgate_response_cache_entries")
        .help("Answers held in a route's in-process response cache.")
        .labelNames("route")
        .callback(cb -> sizes.get().forEach(c -> cb.call(c.entries(), c.route())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_response_cache_bytes")
        .help("Serialised bytes of the answers in a route's in-process response cache.")
        .labelNames("route")
        .callback(cb -> sizes.get().forEach(c -> cb.call(c.bytes(), c.route())))
        .register(registry);
  }

  /** A failed attempt at {@code provider}/{@code model} moved the call on to another attempt. */
  public void failover(String route, String provider, String model) {
    failovers.labelValues(route, label(provider), label(model)).inc();
  }

  /**
   * A target was skipped for a call whose request needs {@code feature}, which its API cannot take
   * ({@link dev.tollgate.sidecar.chat.Capabilities#FEATURES}: a fixed set).
   */
  public void translationSkip(String route, String provider, String feature) {
    translationSkips.labelValues(route, label(provider), label(feature)).inc();
  }

  /** Today's use of a tokens-per-day limit: {@code scope} is route or credential. */
  public record DailySample(String scope, String name, double usedRatio) {}

  /**
   * Exports {@code tollgate_tokens_per_day_used_ratio{scope,name}}, read from {@code samples} at
   * each scrape: the fraction of this sidecar's tokens-per-day limit (its share, for a credential)
   * used since 00:00 UTC. Labels are route and credential names from the configuration.
   */
  public void tokensPerDayUsed(Supplier<List<DailySample>> samples) {
    GaugeWithCallback.builder()
        .name("tollgate_tokens_per_day_used_ratio")
        .help(
            "Fraction of this sidecar's tokens-per-day limit (or credential share) used since"
                + " 00:00 UTC, by scope (route, credential) and name.")
        .labelNames("scope", "name")
        .callback(cb -> samples.get().forEach(d -> cb.call(d.usedRatio(), d.scope(), d.name())))
        .register(registry);
  }

  /** One route target's circuit state: 0 closed, 1 open, 2 half-open. */
  public record CircuitSample(String route, String provider, String model, int state) {}

  /**
   * Exports {@code tollgate_circuit_state}, read from {@code states} at each scrape (so that it can
   * never disagree with the breakers). A target in several tiers shows its worst state.
   */
  public void circuitStates(Supplier<List<CircuitSample>> states) {
    GaugeWithCallback.builder()
        .name("tollgate_circuit_state")
        .help("Circuit breaker state of a route target: 0 closed, 1 open, 2 half-open.")
        .labelNames("route", "provider", "model")
        .callback(
            cb -> {
              Map<List<String>, Integer> worst = new HashMap<>();
              for (CircuitSample c : states.get()) {
                worst.merge(
                    List.of(c.route(), label(c.provider()), label(c.model())),
                    c.state(),
                    Math::max);
              }
              worst.forEach((k, v) -> cb.call(v, k.toArray(String[]::new)));
            })
        .register(registry);
  }

  /** Result of a credential's active health probes: 1 up, 0 down. */
  public void credentialUp(String credential, boolean up) {
    credentialUp.labelValues(credential).set(up ? 1 : 0);
  }

  public void started(String route) {
    inFlight.labelValues(route).inc();
  }

  public void ended(CallRecord r) {
    inFlight.labelValues(r.route()).dec();
    String p = label(r.provider());
    String m = label(r.model());
    Series s = series(r.route(), p, m);
    s.requests().inc();
    if (r.errorKind() != null) {
      errors.labelValues(r.route(), p, m, r.errorKind().label()).inc();
    }
    if (r.usage() != null) {
      s.tokens(0).inc(r.usage().inputTokens());
      s.tokens(1).inc(r.usage().outputTokens());
      s.tokens(2).inc(r.usage().cacheReadTokens());
      s.tokens(3).inc(r.usage().cacheWriteTokens());
      if (r.usage().cacheReadTokens() + r.usage().cacheWriteTokens() > 0) {
        LongAdder[] rw =
            promptCacheTokens.computeIfAbsent(
                r.route(), k -> new LongAdder[] {new LongAdder(), new LongAdder()});
        rw[0].add(r.usage().cacheReadTokens());
        rw[1].add(r.usage().cacheWriteTokens());
      }
      if (r.cost().priced()) {
        // a metric sample is a double by nature; the ledger and the log keep the exact value
        s.cost().inc(r.cost().usd().doubleValue());
      } else {
        s.unpriced().inc();
      }
    }
    if (!r.usageComplete() && r.upstreamStatus() == 200) {
      s.usageMissing().inc();
    }
    s.latency().observe(r.latencyNanos() / 1e9);
    if (r.ttftNanos() >= 0) {
      s.ttft().observe(r.ttftNanos() / 1e9);
    }
    attributed(r, m);
    CounterDataPoint[] w = workload;
    if (w != null) {
      w[0].inc();
      if (r.cost().priced() && r.cost().usd().signum() > 0) {
        w[1].inc(r.cost().usd().doubleValue());
      }
    }
  }

  /** Most series a call's end keeps bound; past it, the children are looked up on each call. */
  static final int MAX_BOUND_SERIES = 1024;

  private final Map<List<String>, Series> bound = new ConcurrentHashMap<>();

  /**
   * The per-call series of {@code route}, {@code provider} and {@code model}, bound once: a
   * labelled child is otherwise looked up by its label values ten times a call. Each child is bound
   * when first used, so a call that never, say, went unpriced shows no unpriced series. The labels
   * are bounded by the configuration; the map is capped at {@link #MAX_BOUND_SERIES} anyway.
   */
  private Series series(String route, String provider, String model) {
    List<String> key = List.of(route, provider, model);
    Series s = bound.get(key);
    if (s == null) {
      s = new Series(route, provider, model);
      if (bound.size() < MAX_BOUND_SERIES) {
        Series raced = bound.putIfAbsent(key, s);
        s = raced == null ? s : raced;
      }
    }
    return s;
  }

  /** Bound children of the per-call metrics for one route, provider and model. */
  private final class Series {
    private static final String[] TOKEN_TYPES = {"input", "output", "cache_read", "cache_write"};
    private final CounterDataPoint requests;
    private final DistributionDataPoint latency;
    private final Lazy<CounterDataPoint[]> tokens;
    private final Lazy<CounterDataPoint> cost;
    private final Lazy<CounterDataPoint> unpriced;
    private final Lazy<CounterDataPoint> usageMissing;
    private final Lazy<DistributionDataPoint> ttft;

    Series(String route, String provider, String model) {
      requests = ProxyMetrics.this.requests.labelValues(route, provider, model);
      latency = ProxyMetrics.this.latency.labelValues(route, provider, model);
      tokens =
          new Lazy<>(
              () -> {
                CounterDataPoint[] t = new CounterDataPoint[TOKEN_TYPES.length];
                for (int i = 0; i < t.length; i++) {
                  t[i] =
                      ProxyMetrics.this.tokens.labelValues(route, provider, model, TOKEN_TYPES[i]);
                }
                return t;
              });
      cost = new Lazy<>(() -> ProxyMetrics.this.cost.labelValues(route, provider, model));
      unpriced = new Lazy<>(() -> ProxyMetrics.this.unpriced.labelValues(route, provider, model));
      usageMissing =
          new Lazy<>(() -> ProxyMetrics.this.usageMissing.labelValues(route, provider, model));
      ttft = new Lazy<>(() -> ProxyMetrics.this.ttft.labelValues(route, provider, model));
    }

    CounterDataPoint requests() {
      return requests;
    }

    DistributionDataPoint latency() {
      return latency;
    }

    /** The token counter of {@code type} (0 input, 1 output, 2 cache read, 3 cache write). */
    CounterDataPoint tokens(int type) {
      return tokens.get()[type];
    }

    CounterDataPoint cost() {
      return cost.get();
    }

    CounterDataPoint unpriced() {
      return unpriced.get();
    }

    CounterDataPoint usageMissing() {
      return usageMissing.get();
    }

    DistributionDataPoint ttft() {
      return ttft.get();
    }
  }

  /**
   * A child bound when first used. Two threads may both bind it: labelValues gives them the same
   * child.
   */
  private static final class Lazy<T> {
    private final Supplier<T> bind;
    private volatile T value;

    Lazy(Supplier<T> bind) {
      this.bind = bind;
    }

    T get() {
      T v = value;
      if (v == null) {
        v = bind.get();
        value = v;
      }
      return v;
    }
  }

  /** The bounded per-user and per-feature series of a call that named them. */
  private void attributed(CallRecord r, String model) {
    Attribution a = r.attribution();
    if (a == null) {
      return;
    }
    double usd = r.cost().priced() ? r.cost().usd().doubleValue() : 0;
    if (a.user() != null) {
      String u = users.of(a.user());
      userRequests.labelValues(u).inc();
      if (usd > 0) {
        userCost.labelValues(u).inc(usd);
      }
    }
    if (a.conversation() != null
        && usd > 0
        && conversations.add(a.conversation(), r.cost().usd())) {
      conversationsOverCost.labelValues(r.route()).inc();
    }
    if (a.feature() != null) {
      String f = features.of(a.feature());
      featureRequests.labelValues(r.route(), f).inc();
      if (usd > 0) {
        featureCost.labelValues(r.route(), f).inc(usd);
      }
      if (r.ttftNanos() >= 0) {
        featureTtft.labelValues(model, f).observe(r.ttftNanos() / 1e9);
      }
    }
  }

  /** Counts conversations over {@code c}'s threshold from now on. */
  public void conversationCosts(ConversationCosts c) {
    conversations = c;
  }

  public void configReload(boolean applied) {
    configReloads.labelValues(applied ? "applied" : "rejected").inc();
  }

  /** The mounted configuration differs from the one the operator announced. */
  public void configIntegrityFailure() {
    configIntegrityFailures.inc();
  }

  /** How many integrity failures were counted (tests). */
  public long configIntegrityFailures() {
    return (long) configIntegrityFailures.get();
  }

  public String contentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }

  /** The text exposition of every metric. */
  public byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  private static String label(String v) {
    return v == null ? "" : v;
  }
}
