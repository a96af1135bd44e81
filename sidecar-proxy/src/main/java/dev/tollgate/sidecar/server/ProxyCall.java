package dev.tollgate.sidecar.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.budget.CallerQuotas;
import dev.tollgate.sidecar.cache.AnswerCollector;
import dev.tollgate.sidecar.cache.CacheReplay;
import dev.tollgate.sidecar.cache.CacheTicket;
import dev.tollgate.sidecar.cache.CachedAnswer;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.metering.CallLog;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.routing.Backoff;
import dev.tollgate.sidecar.routing.ClassifierLabels;
import dev.tollgate.sidecar.routing.Limiter;
import dev.tollgate.sidecar.routing.OutputLimit;
import dev.tollgate.sidecar.routing.RequestFacts;
import dev.tollgate.sidecar.routing.TargetHealth;
import dev.tollgate.sidecar.routing.TierSelector;
import dev.tollgate.sidecar.routing.WeightedSplit;
import dev.tollgate.sidecar.upstream.Adapters;
import dev.tollgate.sidecar.upstream.EventStreamFramer;
import dev.tollgate.sidecar.upstream.Exchange;
import dev.tollgate.sidecar.upstream.ExchangeListener;
import dev.tollgate.sidecar.upstream.ProviderAdapter;
import dev.tollgate.sidecar.upstream.SseParser;
import dev.tollgate.sidecar.upstream.UpstreamBrokenException;
import dev.tollgate.sidecar.wire.AnthropicWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.OpenAiWire;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import dev.tollgate.sidecar.wire.StreamEncoder;
import dev.tollgate.sidecar.wire.UsageAccumulator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;

/**
 * One call from an application to a provider, start to end, on the event loop of the caller's
 * connection: resolve the route, choose its tier and target, translate or forward the request,
 * stream or relay the answer back in the caller's format, and meter it. A failed attempt moves on
 * to the next healthy target, then the tier's fallbacks, then retries with backoff, as long as
 * nothing reached the caller yet. Streamed answers are written event by event as they arrive; the
 * provider connection is read only while the caller's connection is writable.
 */
final class ProxyCall implements ExchangeListener {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyCall.class);
  private static final int MAX_UPSTREAM_BODY = 32 * 1024 * 1024;
  private static final int MAX_ERROR_BODY = 64 * 1024;
  private static final int MAX_SSE_EVENT = 4 * 1024 * 1024;
  private static final int MAX_LOGGED_TEXT = 4000;

  private enum Mode {
    ERROR,
    FULL,
    STREAM
  }

  private final ProxyContext px;
  private final ChannelHandlerContext ctx;
  private final ApiFormat format;
  private final String requestId;
  private final boolean keepAlive;
  private final Runnable onDone;
  private final long startNanos = System.nanoTime();

  private String route = CallRecord.UNKNOWN;
  private String tier;
  private String model;
  private CredentialConfig credential;
  private ProviderAdapter adapter;
  private boolean stream;
  private boolean callerWantsUsage;
  private boolean passthrough;
  private boolean started;

  // routing: the request, its candidates in try order, and where the call is in them
  private SidecarConfig cfg;
  private RouteConfig routeCfg;
  private ObjectNode requestJson;
  private ObjectNode originalJson;
  private boolean previousFailed;
  private HttpHeaders callerHeaders;
  private CallerQuotas.Caller caller;
  private List<RouteConfig.TargetRef> candidates;
  private int nextCandidate;
  private int attemptNo;
  private int retries;
  private int failovers;
  private long attemptStartNanos;
  private TargetHealth health;
  private ProxyException lastFailure;
  private String failedProvider;
  private String failedCredential;
  private String failedModel;
  private Duration attemptWait;
  private Duration providerWait;
  private Duration limitedWait;
  private boolean totalExpired;
  private boolean escalated;
  private RouteConfig.TargetRef ejected;
  private boolean panic;
  private long queuedNanos;
  private long reservedTokens;
  private Limiter routeLimiter;
  private Limiter callerLimiter;
  private Limiter credentialLimiter;

  private Exchange exchange;
  private Mode mode;
  private String upstreamRetryAfter;
  private int upstreamStatus;
  private ByteBuf body;
  private SseParser sse;
  private EventStreamFramer frames;
  private StreamDecoder decoder;
  private StreamEncoder encoder;
  private UsageAccumulator streamUsage = new UsageAccumulator();
  private Usage usage;
  private boolean usageComplete;
  private FinishReason finish;
  private boolean headersSent;
  private boolean paused;
  private boolean finished;
  private long ttftNanos = -1;
  private ScheduledFuture<?> firstTokenTimer;
  private String prompt;
  private StringBuilder answer;
  private ScheduledFuture<?> totalTimer;

  // response cache: this request's ticket, the answer it served, and the answer it may keep
  private CacheTicket cacheTicket;
  private CachedAnswer cacheHit;
  private AnswerCollector cacheCollector;
  private ChatResponse cacheable;
  private ProxyException budgetBlocked;

  ProxyCall(
      ProxyContext px,
      ChannelHandlerContext ctx,
      ApiFormat format,
      String requestId,
      boolean keepAlive,
      Runnable onDone) {
    this.px = px;
    this.ctx = ctx;
    this.format = format;
    this.requestId = requestId;
    this.keepAlive = keepAlive;
    this.onDone = onDone;
  }

  void start(FullHttpRequest request) {
    try {
      begin(request);
    } catch (ProxyException e) {
      failBeforeHead(e);
    } catch (RuntimeException e) {
      LOG.error("request {} failed unexpectedly", requestId, e);
      failBeforeHead(
          new ProxyException(
              ErrorKind.INTERNAL,
              "the sidecar failed to handle this request; see its log for request " + requestId));
    }
  }

  /** The steps of a call up to the first attempt: resolve, choose the tier, admit. */
  private void begin(FullHttpRequest request) {
    cfg = px.config().current();
    if (cfg == null) {
      throw new ProxyException(ErrorKind.NOT_READY, "the sidecar has no valid configuration yet");
    }
    JsonNode json = parseBody(request.content());
    if (!json.isObject()) {
      throw new ProxyException(ErrorKind.INVALID_REQUEST, "the request body must be a JSON object");
    }
    requestJson = (ObjectNode) json;
    callerHeaders = request.headers().copy();
    // Budget gate: Block throws (429), Downgrade narrows the route to its cheaper tier or target
    // before the tier is chosen, so routing picks among what the budget still allows.
    RouteConfig resolved = resolveRoute(cfg, json);
    try {
      routeCfg = px.budgetGate().admit(resolved, cfg);
      // Per-caller quota: a caller over its quota is refused whatever the budget's own action is.
      caller = CallerQuotas.callerOf(cfg, routeCfg.budget(), callerHeaders::get);
      px.budgetGate().callers().admit(caller, cfg.namespace(), routeCfg.model());
    } catch (ProxyException blocked) {
      // A blocked budget (or caller) still lets the response cache answer (a hit costs nothing):
      // the call goes on to the lookup, and fails with this error on a miss. Not with a
      // classifier: asking it would spend.
      if (!px.responseCaches().caches(resolved) || resolved.classifier() != null) {
        throw blocked;
      }
      routeCfg = resolved;
      budgetBlocked = blocked;
    }
    originalJson = requestJson.deepCopy();
    stream = json.path("stream").asBoolean(false);
    callerWantsUsage =
        format == ApiFormat.OPENAI
            && json.path("stream_options").path("include_usage").asBoolean(false);
    if (cfg.server().logContent()) {
      prompt = clip(lastUserText(json), MAX_LOGGED_TEXT);
      answer = new StringBuilder();
    }
    RouteConfig.Timeouts timeouts = routeCfg.timeouts();
    totalTimer =
        schedule(
            timeouts.total(),
            () -> {
              totalExpired = true;
              timeout("the call took longer than " + timeouts.total().toMillis() + " ms");
            });
    RequestFacts facts = RequestFacts.of(json, callerHeaders::get);
    RouteConfig.Tier forced =
        px.tierOverrides()
            .forced(route)
            .flatMap(name -> TierSelector.named(routeCfg, name))
            .orElse(null);
    if (forced != null) {
      useTier(forced);
      reservedTokens = facts.estimatedInputTokens() + OutputLimit.requested(requestJson);
      lookupThenAdmit(forced);
      return;
    }
    RouteConfig.Classifier classifier = routeCfg.classifier();
    boolean tierAsked =
        callerHeaders.contains(TierSelector.TIER_HEADER)
            && TierSelector.named(routeCfg, callerHeaders.get(TierSelector.TIER_HEADER).trim())
                .isPresent();
    if (classifier == null || classifier.target() == null || tierAsked) {
      route(facts, false);
      return;
    }
    String key = classifierKey(classifier, facts.lastUserText());
    ClassifierLabels.Entry cached = px.classifierLabels().get(key);
    if (cached != null) {
      route(facts.withClassifierLabel(cached.label()), true);
      return;
    }
    ClassifierCall.classify(
        px,
        cfg,
        ctx.channel().eventLoop(),
        requestId,
        caller,
        format.name().toLowerCase(java.util.Locale.ROOT),
        routeCfg,
        facts.lastUserText(),
        label -> {
          if (finished) {
            return;
          }
          if (label != null) {
            px.classifierLabels().put(key, label, classifier.cacheTtl());
          }
          try {
            route(facts.withClassifierLabel(label), true);
          } catch (ProxyException e) {
            finalFail(e);
          }
        });
  }

  private String classifierKey(RouteConfig.Classifier c, String text) {
    return ClassifierLabels.key(route, c, text);
  }

  /**
   * Chooses the tier and its candidates, then admits the call. When the route has a classifier and
   * it gave no declared label, the classifier's default tier serves.
   */
  private void route(RequestFacts facts, boolean classified) {
    RouteConfig.Classifier c = routeCfg.classifier();
    RouteConfig.Tier t = null;
    if (classified && facts.classifierLabel() == null && c.defaultTier() != null) {
      t = TierSelector.named(routeCfg, c.defaultTier()).orElse(null);
    }
    if (t == null) {
      t = TierSelector.select(routeCfg, facts);
    }
    useTier(t);
    reservedTokens = facts.estimatedInputTokens() + OutputLimit.requested(requestJson);
    lookupThenAdmit(t);
  }

  /**
   * Serves the answer from the route's response cache when it holds one, else admits the call. The
   * lookup comes after the tier is chosen (the tier and its models are part of the key) and before
   * the rate limits and the provider: a hit takes nothing from the limits and costs nothing, so it
   * is served even when the route's budget blocks calls.
   */
  private void lookupThenAdmit(RouteConfig.Tier t) {
    cacheTicket =
        px.responseCaches()
            .ticket(
                cfg.namespace(),
                routeCfg,
                t,
                format,
                requestJson,
                callerHeaders.get(HttpHeaderNames.CACHE_CONTROL),
                format == ApiFormat.ANTHROPIC ? callerHeaders.get("anthropic-beta") : null);
    if (cacheTicket != null && cacheTicket.mayStore() && stream) {
      cacheCollector = new AnswerCollector(routeCfg.cache().response().maxSizeBytes());
    }
    if (cacheTicket == null || !cacheTicket.mayRead()) {
      if (budgetBlocked != null) {
        throw budgetBlocked;
      }
      admit();
      return;
    }
    cacheTicket
        .lookup()
        .whenComplete(
            (hit, e) -> {
              Runnable next =
                  () -> {
                    if (finished) {
                      return;
                    }
                    try {
                      if (hit != null) {
                        serveCached(hit);
                      } else if (budgetBlocked != null) {
                        finalFail(budgetBlocked);
                      } else {
                        admit();
                      }
                    } catch (ProxyException x) {
                      finalFail(x);
                    }
                  };
              if (ctx.executor().inEventLoop()) {
                next.run();
              } else {
                ctx.executor().execute(next); // Redis answered on its own thread
              }
            });
  }

  /** Answers from the cache, as JSON or as a stream in the caller's format. */
  private void serveCached(CachedAnswer hit) {
    cacheHit = hit;
    finish = hit.response().finish();
    if (stream) {
      write(CacheReplay.stream(format, hit, callerWantsUsage));
      end(200, null);
      endStream();
    } else {
      FullHttpResponse out = Responses.json(200, CacheReplay.body(format, hit));
      decorate(out.headers());
      end(200, null);
      Responses.send(ctx, out, keepAlive);
    }
  }

  private void useTier(RouteConfig.Tier t) {
    tier = t.name();
    requestJson = originalJson.deepCopy();
    OutputLimit.apply(requestJson, t.maxTokens());
    candidates = candidates(t);
    nextCandidate = 0;
    ejected = null;
    panic = false;
  }

  /**
   * The tier's targets in try order (the weighted pick for this request, or this caller when the
   * route has affinity, first), then its fallbacks in order.
   */
  private List<RouteConfig.TargetRef> candidates(RouteConfig.Tier t) {
    String key = requestId;
    if (routeCfg.affinity() != null && routeCfg.affinity().header() != null) {
      String sticky = callerHeaders.get(routeCfg.affinity().header());
      if (sticky != null && !sticky.isBlank()) {
        key = sticky;
      }
    }
    List<RouteConfig.TargetRef> out = new ArrayList<>();
    if (!t.targets().isEmpty()) {
      WeightedSplit.order(t.targets(), key).forEach(x -> out.add(x.ref()));
    }
    for (RouteConfig.TargetRef f : t.fallbacks()) {
      if (!out.contains(f)) {
        out.add(f);
      }
    }
    return out;
  }

  /**
   * The route's and the caller's rate limits: wait up to the route's {@code maxQueueWait} for
   * capacity, else answer 429 with Retry-After. Failing over cannot help with these limits.
   */
  private void admit() {
    if (finished) {
      return;
    }
    RouteConfig.RateLimit rl = routeCfg.rateLimit();
    if (routeLimiter == null) {
      routeLimiter = px.limits().route(routeCfg);
    }
    if (callerLimiter == null && rl != null && rl.callerHeader() != null) {
      callerLimiter = px.limits().caller(routeCfg, callerHeaders.get(rl.callerHeader()));
    }
    Duration wait = routeLimiter == null ? Duration.ZERO : routeLimiter.tryTake(reservedTokens);
    if (wait.isZero() && callerLimiter != null) {
      wait = callerLimiter.tryTake(reservedTokens);
      if (!wait.isZero() && routeLimiter != null) {
        routeLimiter.refund(reservedTokens);
      }
    }
    if (wait.isZero()) {
      attemptNext();
      return;
    }
    if (queue(wait)) {
      schedule(wait, this::admit);
      return;
    }
    String which = routeLimiter != null && callerLimiter == null ? "route" : "route or caller";
    routeLimiter = null;
    callerLimiter = null; // nothing was taken from them
    finalFail(limited("the " + which + " rate limit of route " + route + " is reached", wait));
  }

  /** Whether waiting {@code wait} more stays within the route's queueing allowance. */
  private boolean queue(Duration wait) {
    RouteConfig.RateLimit rl = routeCfg.rateLimit();
    Duration allowed = rl == null ? Duration.ZERO : rl.maxQueueWait();
    if (queuedNanos + wait.toNanos() > allowed.toNanos()) {
      return false;
    }
    queuedNanos += wait.toNanos();
    return true;
  }

  private static ProxyException limited(String message, Duration wait) {
    long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
    return new ProxyException(
        ErrorKind.RATE_LIMITED,
        429,
        message + "; retry after " + seconds + " s",
        Long.toString(seconds));
  }

  /**
   * Sends the next attempt: the next candidate whose circuit admits a request and whose credential
   * has capacity; when every candidate was tried, a retry from the first after a backoff.
   */
  private void attemptNext() {
    if (finished) {
      return;
    }
    try {
      while (nextCandidate < candidates.size()) {
        RouteConfig.TargetRef c = candidates.get(nextCandidate++);
        if (tryAttempt(c)) {
          return;
        }
        if (finished) {
          return;
        }
      }
      if (lastFailure != null && retries < routeCfg.retry().attempts()) {
        RouteConfig.Retry r = routeCfg.retry();
        Duration wait =
            providerWait != null
                ? providerWait
                : Backoff.delay(retries, r.backoffBase(), r.backoffCap());
        if (wait.compareTo(r.backoffCap()) <= 0) {
          retries++;
          nextCandidate = 0;
          ejected = null;
          providerWait = null;
          schedule(wait, this::attemptNext);
          return;
        }
      }
      if (lastFailure != null) {
        finalFail(lastFailure);
      } else if (limitedWait != null) {
        finalFail(
            limited(
                "every target of tier "
                    + tier
                    + " of route "
                    + route
                    + " is at its credential's rate limit",
                limitedWait));
      } else if (ejected != null) {
        // Every candidate is ejected. As Envoy's panic threshold does, ignore ejection rather than
        // turn a partial outage into a total one: the preferred candidate is tried anyway (its
        // breaker is not told; its own half-open probe decides when it closes).
        RouteConfig.TargetRef c = ejected;
        ejected = null;
        panic = true;
        tryAttempt(c);
      } else {
        finalFail(
            new ProxyException(
                ErrorKind.INTERNAL, "tier " + tier + " of route " + route + " has no targets"));
      }
    } catch (ProxyException e) {
      finalFail(e);
    }
  }

  /** Sends one attempt to {@code c}, or returns false to skip it (circuit open, limited). */
  private boolean tryAttempt(RouteConfig.TargetRef c) {
    CredentialConfig cred =
        cfg.credential(c.credential())
            .orElseThrow(
                () ->
                    new ProxyException(
                        ErrorKind.INTERNAL, "credential " + c.credential() + " is not declared"));
    if (px.activeHealth().isDown(cred.name()) && nextCandidate < candidates.size()) {
      return false; // its probes fail; an alternative remains (the last candidate is still tried)
    }
    TargetHealth h = px.health().of(routeCfg, tier, cred, c.model());
    Limiter cl = px.limits().credential(cred);
    if (cl != null) {
      Duration wait = cl.tryTake(reservedTokens);
      if (!wait.isZero()) {
        RouteConfig.RateLimit rl = routeCfg.rateLimit();
        boolean failover = rl == null || rl.failoverWhenLimited();
        if (queue(wait)) {
          nextCandidate--; // try the same target again once the bucket has refilled
          schedule(wait, this::attemptNext);
          return true;
        }
        limitedWait = limitedWait == null || wait.compareTo(limitedWait) < 0 ? wait : limitedWait;
        if (!failover) {
          throw limited("credential " + cred.name() + " is at its rate limit", wait);
        }
        return false;
      }
    }
    if (!panic && !h.tryAcquire()) {
      if (cl != null) {
        cl.refund(reservedTokens);
      }
      if (ejected == null) {
        ejected = c;
      }
      return false;
    }
    if (previousFailed) {
      previousFailed = false;
      failovers++;
      px.metrics().failover(route, failedProvider, failedModel);
      // Recorded only once another attempt starts: a call that ends on this failure records it
      // once, as the call's own error.
      px.ledger()
          .recordFailedAttempt(
              new UsageLedger.Key(route, tier, failedCredential, failedModel), lastFailure.kind());
    }
    attemptNo++;
    credential = cred;
    model = c.model();
    health = panic ? null : h;
    credentialLimiter = cl;
    adapter = Adapters.forProvider(credential.provider());
    passthrough = adapter.nativeFormat() == format;
    resetAttemptState();
    attemptStartNanos = System.nanoTime();
    try {
      send();
    } catch (ProxyException e) {
      fail(e);
    }
    return true;
  }

  private void send() {
    String apiKey = apiKey();
    URI url = adapter.url(credential, model, stream);
    Supplier<FullHttpRequest> upstreamRequest =
        upstreamRequest(url, upstreamBody(requestJson.deepCopy()), callerHeaders, apiKey);
    RouteConfig.Timeouts timeouts = routeCfg.timeouts();
    // A non-streamed answer arrives whole, so its first byte is its last: only the total timeout
    // bounds it. Streams must start within the first-token timeout.
    if (stream) {
      firstTokenTimer =
          schedule(
              timeouts.firstToken(),
              () ->
                  timeout(
                      "no answer from the provider within "
                          + timeouts.firstToken().toMillis()
                          + " ms"));
    }
    exchange =
        px.upstream()
            .send(
                ctx.channel().eventLoop(),
                url,
                credential.caFile(),
                upstreamRequest,
                timeouts.connect(),
                guarded(attemptNo));
  }

  /** Forgets what an earlier, failed attempt received. */
  private void resetAttemptState() {
    if (body != null) {
      body.release();
      body = null;
    }
    mode = null;
    upstreamStatus = 0;
    upstreamRetryAfter = null;
    attemptWait = null;
    sse = null;
    frames = null;
    decoder = null;
    encoder = null;
    streamUsage = new UsageAccumulator();
    usage = null;
    finish = null;
    ttftNanos = -1;
    paused = false;
    if (cacheCollector != null) {
      cacheCollector = new AnswerCollector(routeCfg.cache().response().maxSizeBytes());
    }
  }

  /** Passes the events of attempt {@code n} on only while it is the current attempt. */
  private ExchangeListener guarded(int n) {
    return new ExchangeListener() {
      @Override
      public void onHead(HttpResponse head) {
        if (n == attemptNo) {
          ProxyCall.this.onHead(head);
        }
      }

      @Override
      public void onContent(ByteBuf content, boolean last) {
        if (n == attemptNo) {
          ProxyCall.this.onContent(content, last);
        }
      }

      @Override
      public void onFailure(Throwable cause, boolean afterHead) {
        if (n == attemptNo) {
          ProxyCall.this.onFailure(cause, afterHead);
        }
      }
    };
  }

  /** The route the request's {@code model} names, or the default route. */
  private RouteConfig resolveRoute(SidecarConfig cfg, JsonNode json) {
    JsonNode modelNode = json.get("model");
    if (modelNode == null || !modelNode.isTextual() || modelNode.asText().isBlank()) {
      throw new ProxyException(
          ErrorKind.INVALID_REQUEST,
          "'model' is required: it names the route to use, one of " + routeNames(cfg));
    }
    String asked = modelNode.asText();
    RouteConfig r =
        cfg.route(asked)
            .or(cfg::defaultRoute)
            .orElseThrow(
                () ->
                    new ProxyException(
                        ErrorKind.UNKNOWN_ROUTE,
                        "model '"
                            + truncate(asked)
                            + "' names no route in namespace "
                            + cfg.namespace()
                            + "; declared routes: "
                            + routeNames(cfg)));
    route = r.model();
    started = true;
    px.inFlight().incrementAndGet();
    px.metrics().started(route);
    return r;
  }

  private String apiKey() {
    return ApiKeys.of(px, credential);
  }

  /** The caller's body forwarded as sent (same format) or translated through the neutral model. */
  private byte[] upstreamBody(ObjectNode json) {
    ObjectNode body;
    if (passthrough) {
      body = adapter.forward(json, model, stream);
    } else {
      ChatRequest neutral =
          format == ApiFormat.OPENAI
              ? OpenAiWire.parseRequest(json)
              : AnthropicWire.parseRequest(json);
      body = adapter.encode(neutral, model);
    }
    if (PromptCacheMarker.apply(
            routeCfg.cache().promptCaching(), credential.provider(), model, body, json, format)
        == PromptCacheMarker.Outcome.MARKED) {
      px.metrics().promptCacheMarked(route, credential.provider().wireName(), model);
    }
    try {
      return Json.MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new ProxyException(ErrorKind.INTERNAL, "cannot write the provider request");
    }
  }

  /**
   * Makes the provider request, once per attempt (a retry on a fresh connection needs a new one).
   */
  private Supplier<FullHttpRequest> upstreamRequest(
      URI url, byte[] body, HttpHeaders callerHeaders, String apiKey) {
    HttpHeaders headers = new DefaultHttpHeaders();
    headers.set(
        HttpHeaderNames.HOST,
        url.getPort() > 0 ? url.getHost() + ":" + url.getPort() : url.getHost());
    headers.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    headers.set(HttpHeaderNames.ACCEPT, stream ? "text/event-stream" : "application/json");
    headers.set(HttpHeaderNames.USER_AGENT, "tollgate-sidecar");
    headers.set("x-request-id", requestId);
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    if (passthrough && format == ApiFormat.ANTHROPIC) {
      // the caller's API version and beta features, since its body is forwarded as sent
      for (String h : List.of("anthropic-version", "anthropic-beta")) {
        String v = callerHeaders.get(h);
        if (v != null) {
          headers.set(h, v);
        }
      }
    }
    adapter.authenticate(headers, credential, apiKey);
    String target = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
    return () ->
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1,
            HttpMethod.POST,
            target,
            Unpooled.wrappedBuffer(body),
            headers.copy(),
            new DefaultHttpHeaders());
  }

  private ScheduledFuture<?> schedule(Duration d, Runnable r) {
    return ctx.executor().schedule(r, d.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static JsonNode parseBody(ByteBuf content) {
    if (!content.isReadable()) {
      throw new ProxyException(
          ErrorKind.INVALID_REQUEST, "the request has no body; send a JSON object");
    }
    try {
      JsonNode n =
          Json.MAPPER.readTree((java.io.InputStream) new ByteBufInputStream(content.duplicate()));
      if (n == null || n.isMissingNode()) {
        throw new ProxyException(
            ErrorKind.INVALID_REQUEST, "the request body is empty; send a JSON object");
      }
      if (n.isObject()) {
        // checked for every route, passthrough too: an infinite temperature is a 400, not a 500
        Json.samplingParameter(n, "temperature");
        Json.samplingParameter(n, "top_p");
      }
      return n;
    } catch (JsonProcessingException e) {
      throw new ProxyException(
          ErrorKind.INVALID_REQUEST,
          "the request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ProxyException(ErrorKind.INVALID_REQUEST, "the request body cannot be read");
    }
  }

  /** The text of the last user message in either caller format (for content logging only). */
  private static String lastUserText(JsonNode body) {
    JsonNode messages = body.path("messages");
    for (int i = messages.size() - 1; i >= 0; i--) {
      JsonNode m = messages.get(i);
      if ("user".equals(m.path("role").asText())) {
        JsonNode c = m.path("content");
        if (c.isTextual()) {
          return c.asText();
        }
        StringBuilder sb = new StringBuilder();
        c.forEach(part -> sb.append(part.path("text").asText("")));
        return sb.toString();
      }
    }
    return "";
  }

  private static String clip(String s, int max) {
    return s.length() > max ? s.substring(0, max) + "..." : s;
  }

  private static List<String> routeNames(SidecarConfig cfg) {
    return cfg.routes().stream().map(RouteConfig::model).sorted().toList();
  }

  private static String truncate(String s) {
    return s.length() > 100 ? s.substring(0, 100) + "..." : s;
  }

  // ---- upstream events ----

  @Override
  public void onHead(HttpResponse head) {
    if (finished) {
      return;
    }
    upstreamStatus = head.status().code();
    if (upstreamStatus != 200) {
      mode = Mode.ERROR;
      upstreamRetryAfter = head.headers().get(HttpHeaderNames.RETRY_AFTER);
      attemptWait = Backoff.providerWait(head.headers()::get, Instant.now());
      body = ctx.alloc().buffer(512);
    } else if (stream) {
      mode = Mode.STREAM;
      if (adapter.eventStream()) {
        frames = new EventStreamFramer(MAX_SSE_EVENT);
      } else {
        sse = new SseParser(MAX_SSE_EVENT);
      }
      decoder = adapter.streamDecoder(model);
      if (!passthrough) {
        encoder =
            format == ApiFormat.OPENAI
                ? new OpenAiWire.Encoder(callerWantsUsage)
                : new AnthropicWire.Encoder();
      }
    } else {
      mode = Mode.FULL;
      body = ctx.alloc().buffer(4096);
    }
  }

  @Override
  public void onContent(ByteBuf content, boolean last) {
    if (finished) {
      return;
    }
    if (ttftNanos < 0 && (content.isReadable() || last)) {
      ttftNanos = System.nanoTime() - startNanos;
      if (firstTokenTimer != null) {
        firstTokenTimer.cancel(false);
      }
    }
    try {
      switch (mode) {
        case ERROR -> {
          body.writeBytes(
              content,
              Math.min(
                  content.readableBytes(), Math.max(0, MAX_ERROR_BODY - body.readableBytes())));
          if (last) {
            failFromUpstreamStatus();
          }
        }
        case FULL -> {
          if (body.readableBytes() + content.readableBytes() > MAX_UPSTREAM_BODY) {
            exchange.abort();
            throw new ProxyException(
                ErrorKind.UPSTREAM_BAD_RESPONSE,
                "the provider's answer is larger than " + MAX_UPSTREAM_BODY + " bytes");
          }
          body.writeBytes(content);
          if (last) {
            completeFull();
          }
        }
        case STREAM -> {
          if (frames != null) {
            feedFrames(content);
          } else {
            sse.feed(content, this::onSseEvent);
          }
          if (last) {
            if (sse != null) {
              sse.finish(this::onSseEvent);
            }
            emit(decoder.onEndOfBody());
            completeStream();
          } else {
            ctx.flush();
          }
        }
      }
    } catch (ProxyException e) {
      if (!last) {
        exchange.abort();
      }
      fail(e);
    } catch (IllegalStateException e) {
      exchange.abort();
      fail(new ProxyException(ErrorKind.UPSTREAM_BAD_RESPONSE, e.getMessage()));
    }
    if (!last && !finished) {
      requestMore();
    }
  }

  @Override
  public void onFailure(Throwable cause, boolean afterHead) {
    if (finished) {
      return;
    }
    ProxyException e;
    if (cause instanceof UpstreamBrokenException) {
      e =
          new ProxyException(
              stream ? ErrorKind.UPSTREAM_STREAM_BROKEN : ErrorKind.UPSTREAM_BAD_RESPONSE,
              cause.getMessage() + " (" + credential.provider().wireName() + ")");
    } else {
      e =
          new ProxyException(
              ErrorKind.UPSTREAM_CONNECT,
              "cannot reach provider "
                  + credential.provider().wireName()
                  + " of credential "
                  + credential.name()
                  + ": "
                  + cause.getMessage());
    }
    fail(e);
  }

  private void requestMore() {
    if (!paused && !ctx.channel().isWritable()) {
      paused = true;
      exchange.pause();
    }
  }

  /** The caller's connection drained: resume reading the provider. */
  void onWritable() {
    if (paused && !finished && ctx.channel().isWritable()) {
      paused = false;
      exchange.resume();
    }
  }

  /** The caller went away. */
  void onClientClosed() {
    if (!finished) {
      if (exchange != null) {
        exchange.abort();
      }
      end(ErrorKind.CLIENT_CLOSED.status(), ErrorKind.CLIENT_CLOSED);
    }
  }

  private void timeout(String message) {
    if (finished) {
      return;
    }
    if (exchange != null) {
      exchange.abort();
    }
    fail(new ProxyException(ErrorKind.UPSTREAM_TIMEOUT, message));
  }

  // ---- streaming ----

  private void onSseEvent(String event, String data) {
    List<StreamEvent> events = decoder.onEvent(event, data);
    if (passthrough) {
      track(events);
      if (format == ApiFormat.OPENAI
          && !callerWantsUsage
          && events.size() == 1
          && events.get(0) instanceof StreamEvent.UsageUpdate) {
        return; // the usage chunk the sidecar asked for on its own behalf
      }
      write((event == null ? "" : "event: " + event + "\n") + "data: " + data + "\n\n");
    } else {
      emit(events);
    }
  }

  private void feedFrames(ByteBuf content) {
    try {
      frames.feed(content, this::onFrame);
    } catch (ProxyException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE,
          "the provider's event stream is malformed: " + e.getMessage());
    }
  }

  /** One AWS event-stream frame: an event, or an exception the provider reports mid-stream. */
  private void onFrame(Message frame) {
    HeaderValue type = frame.getHeaders().get(":message-type");
    String payload = new String(frame.getPayload(), StandardCharsets.UTF_8);
    if (type != null && !"event".equals(type.getString())) {
      HeaderValue which = frame.getHeaders().get(":exception-type");
      String name = which == null ? "error" : which.getString();
      JsonNode body = Json.parseOrNull(payload);
      String message = body == null ? name : body.path("message").asText(name);
      throw new ProxyException(
          "throttlingException".equals(name)
              ? ErrorKind.UPSTREAM_RATE_LIMITED
              : ErrorKind.UPSTREAM_ERROR,
          "the provider reported " + name + " mid-stream: " + message);
    }
    HeaderValue event = frame.getHeaders().get(":event-type");
    emit(decoder.onEvent(event == null ? null : event.getString(), payload));
  }

  private void emit(List<StreamEvent> events) {
    if (passthrough) {
      track(events);
      return;
    }
    for (StreamEvent e : events) {
      track(List.of(e));
      String text = encoder.encode(e);
      if (!text.isEmpty()) {
        write(text);
      }
    }
  }

  private void track(List<StreamEvent> events) {
    for (StreamEvent e : events) {
      if (cacheCollector != null) {
        cacheCollector.accept(e);
      }
      if (e instanceof StreamEvent.TextDelta t
          && answer != null
          && answer.length() < MAX_LOGGED_TEXT) {
        answer.append(t.text());
      } else if (e instanceof StreamEvent.UsageUpdate u) {
        streamUsage.add(u);
      } else if (e instanceof StreamEvent.Finish f) {
        finish = f.reason();
      }
    }
  }

  private void write(String text) {
    if (!headersSent) {
      headersSent = true;
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
          .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
          .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      decorate(head.headers());
      ctx.write(head);
    }
    ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
  }

  private void completeStream() {
    usage = streamUsage.known() ? streamUsage.usage() : null;
    usageComplete = usage != null;
    if (cacheCollector != null && usageComplete) {
      cacheable = cacheCollector.response(usage);
    }
    if (!headersSent) {
      write("");
    }
    // meter before the last byte leaves, so a caller that sees the end sees the ledger updated
    end(200, null);
    endStream();
  }

  private void endStream() {
    ChannelFuture f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }

  // ---- whole answers ----

  private void completeFull() {
    JsonNode json = Json.parseOrNull(ByteBufUtil2.bytes(body));
    if (json == null) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE,
          "provider "
              + credential.provider().wireName()
              + " answered 200 with a body that is not JSON");
    }
    ChatResponse response = adapter.decode(json, model);
    usage = response.usage();
    usageComplete = usage != null;
    finish = response.finish();
    if (escalate(response)) {
      return;
    }
    if (answer != null) {
      answer.append(response.text());
    }
    cacheable = response;
    FullHttpResponse out;
    if (passthrough) {
      out = Responses.of(200, body.retain(), "application/json");
    } else {
      ChatResponse named =
          new ChatResponse(
              response.id(),
              response.model().isEmpty() ? model : response.model(),
              response.content(),
              response.finish(),
              response.usage());
      out =
          Responses.json(
              200,
              format == ApiFormat.OPENAI
                  ? OpenAiWire.renderResponse(named)
                  : AnthropicWire.renderResponse(named));
    }
    decorate(out.headers());
    end(200, null);
    Responses.send(ctx, out, keepAlive);
  }

  /**
   * Confidence escalation (seed "Pattern 3"): a whole answer from the route's cheap tier that
   * starts with the low-confidence marker is metered as its own call and the request is asked again
   * of the stronger tier, whose answer the caller gets. Streamed answers are never escalated: the
   * marker is only known once bytes reached the caller.
   */
  private boolean escalate(ChatResponse response) {
    RouteConfig.Escalation e = routeCfg.escalation();
    if (e == null
        || e.lowConfidenceMarker() == null
        || e.lowConfidenceMarker().isEmpty()
        || escalated
        || !tier.equals(e.fromTier())
        || !response.text().stripLeading().startsWith(e.lowConfidenceMarker())) {
      return false;
    }
    RouteConfig.Tier stronger = TierSelector.named(routeCfg, e.toTier()).orElse(null);
    if (stronger == null) {
      return false;
    }
    escalated = true;
    reportAttempt(null);
    Cost cost = usage == null ? Cost.UNPRICED : px.costs().cost(credential, model, usage);
    CallRecord cheap = record(200, null, cost);
    px.metrics().started(route); // the cheap call counts as a call of its own
    px.metrics().ended(cheap);
    px.ledger().record(cheap);
    px.budgetGate().callers().record(caller, cheap.cost().priced() ? cheap.cost().usd() : null);
    CallLog.write(cheap);
    usage = null;
    usageComplete = false;
    finish = null;
    lastFailure = null;
    useTier(stronger);
    attemptNext();
    return true;
  }

  private void failFromUpstreamStatus() {
    JsonNode json = Json.parseOrNull(ByteBufUtil2.bytes(body));
    String providerMessage = adapter.errorMessage(json);
    String said = providerMessage == null ? "" : ": " + providerMessage;
    String who =
        "provider " + credential.provider().wireName() + " (credential " + credential.name() + ")";
    int s = upstreamStatus;
    ProxyException e;
    if (s == 429) {
      e =
          new ProxyException(
              ErrorKind.UPSTREAM_RATE_LIMITED,
              429,
              who + " is rate limiting" + said,
              upstreamRetryAfter);
    } else if (s == 401 || s == 403) {
      e =
          new ProxyException(
              ErrorKind.UPSTREAM_AUTH,
              who
                  + " rejected the sidecar's API key (HTTP "
                  + s
                  + "); check the credential's Secret");
    } else if (s == 503 || s == 529) {
      e =
          new ProxyException(
              ErrorKind.UPSTREAM_OVERLOADED,
              503,
              who + " is overloaded (HTTP " + s + ")" + said,
              upstreamRetryAfter);
    } else if (s >= 400 && s < 500) {
      e =
          new ProxyException(
              ErrorKind.UPSTREAM_REJECTED,
              s == 404 || s == 413 || s == 422 ? s : 400,
              who + " rejected the request (HTTP " + s + ")" + said,
              null);
    } else {
      e = new ProxyException(ErrorKind.UPSTREAM_ERROR, who + " failed (HTTP " + s + ")" + said);
    }
    fail(e);
  }

  // ---- ending ----

  /** An attempt failed: move on to another target or retry when allowed, else end the call. */
  private void fail(ProxyException e) {
    if (finished) {
      return;
    }
    RouteConfig.RetryOn kind = retryKind(e.kind());
    if (!headersSent
        && !totalExpired
        && health != null
        && kind != null
        && routeCfg.retry().retryOn().contains(kind)) {
      moveOn(e);
    } else {
      finalFail(e);
    }
  }

  /**
   * Which retryable failure an error is, or null when retrying cannot help (the request's fault).
   */
  private static RouteConfig.RetryOn retryKind(ErrorKind k) {
    return switch (k) {
      case UPSTREAM_RATE_LIMITED -> RouteConfig.RetryOn.RATE_LIMITED;
      case UPSTREAM_ERROR,
          UPSTREAM_OVERLOADED,
          UPSTREAM_BAD_RESPONSE,
          UPSTREAM_STREAM_BROKEN,
          UPSTREAM_AUTH,
          MISSING_CREDENTIAL ->
          RouteConfig.RetryOn.SERVER_ERROR;
      case UPSTREAM_TIMEOUT -> RouteConfig.RetryOn.TIMEOUT;
      case UPSTREAM_CONNECT -> RouteConfig.RetryOn.CONNECTION_ERROR;
      default -> null;
    };
  }

  /** Records the failed attempt against its target and sends the next one. */
  private void moveOn(ProxyException e) {
    if (firstTokenTimer != null) {
      firstTokenTimer.cancel(false);
      firstTokenTimer = null;
    }
    if (exchange != null) {
      exchange.abort();
    }
    reportAttempt(e.kind());
    if (credentialLimiter != null) {
      credentialLimiter.settle(reservedTokens, 0);
      credentialLimiter = null;
    }
    previousFailed = true;
    failedProvider = credential.provider().wireName();
    failedCredential = credential.name();
    failedModel = model;
    lastFailure = e;
    if (attemptWait != null) {
      providerWait = attemptWait;
    } else if (e.retryAfter() != null) {
      providerWait =
          Backoff.providerWait(h -> "retry-after".equals(h) ? e.retryAfter() : null, Instant.now());
    }
    LOG.debug(
        "request {} attempt {} to {}/{} failed ({}); moving on",
        requestId,
        attemptNo,
        credential.name(),
        model,
        e.kind().label());
    attemptNext();
  }

  /** Tells the current attempt's target how it went (once per attempt). */
  private void reportAttempt(ErrorKind kind) {
    TargetHealth h = health;
    if (h == null) {
      return;
    }
    health = null;
    long now = System.nanoTime();
    if (kind == null || kind == ErrorKind.UPSTREAM_REJECTED) {
      // Only a stream's first byte measures the provider's speed; a whole answer's arrival also
      // measures the answer's length, so it does not count as slow.
      if (stream && ttftNanos >= 0) {
        h.succeeded(Duration.ofNanos(Math.max(0, ttftNanos - (attemptStartNanos - startNanos))));
      } else {
        h.succeededWithoutTtft();
      }
    } else if (retryKind(kind) != null) {
      h.failed(
          Duration.ofNanos(now - attemptStartNanos),
          kind.label() + (upstreamStatus > 0 ? " (HTTP " + upstreamStatus + ")" : ""));
    } else {
      h.released();
    }
  }

  /** Ends the call with {@code e}: an error response, or an error event when streaming began. */
  private void finalFail(ProxyException e) {
    if (finished) {
      return;
    }
    if (mode == Mode.STREAM) {
      usage = streamUsage.known() ? streamUsage.usage() : null;
    }
    usageComplete = false;
    if (headersSent) {
      // the caller already has part of the answer: end the stream with an error event in its format
      String event =
          format == ApiFormat.OPENAI
              ? new OpenAiWire.Encoder(false).error(e.kind(), e.getMessage())
              : new AnthropicWire.Encoder().error(e.kind(), e.getMessage());
      ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer(event, StandardCharsets.UTF_8)));
      end(200, e.kind());
      endStream();
    } else {
      failBeforeHead(e);
    }
  }

  private void failBeforeHead(ProxyException e) {
    FullHttpResponse r = Responses.error(format, e);
    decorate(r.headers());
    end(e.status(), e.kind());
    Responses.send(ctx, r, keepAlive);
  }

  private void decorate(HttpHeaders h) {
    h.set("x-request-id", requestId);
    if (cacheTicket != null) {
      h.set("x-tollgate-cache", cacheTicket.header());
    }
    if (cacheHit != null) {
      h.set("x-tollgate-route", route);
      h.set("x-tollgate-tier", tier);
      h.set("x-tollgate-model", cacheHit.model());
    } else if (credential != null) {
      h.set("x-tollgate-route", route);
      h.set("x-tollgate-tier", tier);
      h.set("x-tollgate-provider", credential.provider().wireName());
      h.set("x-tollgate-model", model);
      h.set("x-tollgate-failovers", Integer.toString(failovers));
    }
  }

  private void end(int status, ErrorKind kind) {
    if (finished) {
      return;
    }
    finished = true;
    if (firstTokenTimer != null) {
      firstTokenTimer.cancel(false);
    }
    if (totalTimer != null) {
      totalTimer.cancel(false);
    }
    if (body != null) {
      body.release();
      body = null;
    }
    if (usage == null && mode == Mode.STREAM && streamUsage.known()) {
      // the stream ended early (caller gone, timeout): meter what the provider reported so far
      usage = streamUsage.usage();
    }
    reportAttempt(kind);
    // settle the token reservations on what the provider reported; a call that produced no usage
    // gives its tokens back (its request still counts)
    long actual = usage == null ? 0 : usage.inputTokens() + usage.outputTokens();
    for (Limiter l : new Limiter[] {routeLimiter, callerLimiter, credentialLimiter}) {
      if (l != null) {
        l.settle(reservedTokens, actual);
      }
    }
    Cost cost =
        usage == null || credential == null
            ? Cost.UNPRICED
            : px.costs().cost(credential, model, usage);
    CallRecord record = record(status, kind, cost);
    if (!started) {
      px.metrics().started(route);
    } else {
      px.inFlight().decrementAndGet();
    }
    px.metrics().ended(record);
    if (credential != null) {
      px.ledger().record(record);
      px.budgetGate().callers().record(caller, cost.priced() ? cost.usd() : null);
    }
    if (cacheHit != null) {
      px.responseCaches().meterHit(route, cacheHit);
    } else if (cacheTicket != null
        && cacheable != null
        && status == 200
        && kind == null
        && usageComplete
        && credential != null) {
      cacheTicket.store(
          new CachedAnswer(
              cacheable,
              tier,
              credential.provider().wireName(),
              credential.name(),
              model,
              cost.priced() ? cost.usd() : null));
    }
    if (usage != null && !cost.priced() && px.firstUnpriced(credential.name(), model)) {
      LOG.warn(
          "model {} of credential {} has no price in the catalogue or the credential's overrides; its calls are counted but not priced",
          model,
          credential.name());
    }
    CallLog.write(record);
    onDone.run();
  }

  /** What is known about this call (or its current attempt) for the log, metrics and ledger. */
  private CallRecord record(int status, ErrorKind kind, Cost cost) {
    return new CallRecord(
        requestId,
        format.name().toLowerCase(java.util.Locale.ROOT),
        route,
        tier,
        credential == null ? null : credential.provider().wireName(),
        credential == null ? null : credential.name(),
        model,
        stream,
        status,
        kind,
        usage,
        usageComplete,
        cost,
        System.nanoTime() - startNanos,
        ttftNanos,
        finish == null ? null : (format == ApiFormat.OPENAI ? finish.openAi() : finish.anthropic()),
        failovers,
        upstreamStatus,
        prompt,
        answer == null ? null : clip(answer.toString(), MAX_LOGGED_TEXT));
  }
}
