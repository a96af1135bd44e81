package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.budget.CallerQuotas;
import dev.tollgate.sidecar.cache.CacheReplay;
import dev.tollgate.sidecar.cache.CacheTicket;
import dev.tollgate.sidecar.cache.CachedAnswer;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.format.CallerFormat;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapters;
import dev.tollgate.sidecar.routing.ClassifierLabels;
import dev.tollgate.sidecar.routing.OutputLimit;
import dev.tollgate.sidecar.routing.RequestFacts;
import dev.tollgate.sidecar.routing.TierSelector;
import dev.tollgate.sidecar.server.ProxyContext;
import dev.tollgate.sidecar.server.Responses;
import dev.tollgate.sidecar.upstream.Exchange;
import dev.tollgate.sidecar.upstream.ExchangeListener;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call from an application to a provider, start to end, on the event loop of the caller's
 * connection. It holds the call's state and runs its stages in order: resolve the route ({@link
 * RouteResolver}), gate it on the budget, choose the tier ({@link TierChoice}, {@link
 * ClassifierCall}), look up the response cache, admit it under the rate limits ({@link Admission}),
 * send attempts until one answers ({@link Attempts}, {@link RetryPolicy}), relay the answer in the
 * caller's format ({@link ResponseRelay}, {@link Escalation}), and meter it ({@link CallEnd}).
 */
public final class ProxyCall implements Attempts.Driver, ResponseRelay.Outcome {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyCall.class);

  private final ProxyContext px;
  private final ChannelHandlerContext ctx;
  private final ApiFormat format;
  private final CallerFormat callerFormat;
  private final String requestId;
  private final boolean keepAlive;
  private final Runnable onDone;
  private final CallEnd exit;
  private final long startNanos = System.nanoTime();

  // what the call resolved: route, budget, tier, request
  private String route = CallRecord.UNKNOWN;
  private String tier;
  private SidecarConfig cfg;
  private RouteConfig routeCfg;
  private ObjectNode requestJson;
  private ObjectNode originalJson;
  private HttpHeaders callerHeaders;
  private CallerQuotas.Caller caller;
  private ProxyException budgetBlocked;
  private boolean stream;
  private boolean started;
  private String prompt;

  // its stages
  private Admission admission;
  private Attempts attempts;
  private ResponseRelay relay;
  private CacheTicket cacheTicket;
  private CachedAnswer cacheHit;

  // the current attempt
  private CredentialConfig credential;
  private String model;
  private ProviderAdapter adapter;
  private boolean passthrough;
  private Exchange exchange;
  private ScheduledFuture<?> firstTokenTimer;
  private ScheduledFuture<?> totalTimer;
  private boolean totalExpired;
  private boolean escalated;
  private boolean finished;

  public ProxyCall(
      ProxyContext px,
      ChannelHandlerContext ctx,
      ApiFormat format,
      String requestId,
      boolean keepAlive,
      Runnable onDone) {
    this.px = px;
    this.ctx = ctx;
    this.format = format;
    this.callerFormat = CallerFormat.of(format);
    this.requestId = requestId;
    this.keepAlive = keepAlive;
    this.onDone = onDone;
    this.exit = CallEnd.of(px);
  }

  public void start(FullHttpRequest request) {
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

  /** The stages up to the tier: resolve, gate, then the tier (which goes on to cache and admit). */
  private void begin(FullHttpRequest request) {
    cfg = px.config().current();
    if (cfg == null) {
      throw new ProxyException(ErrorKind.NOT_READY, "the sidecar has no valid configuration yet");
    }
    requestJson = RouteResolver.body(request.content());
    callerHeaders = request.headers().copy();
    RouteConfig resolved = RouteResolver.route(cfg, requestJson);
    route = resolved.model();
    started = true;
    px.inFlight().incrementAndGet();
    px.metrics().started(route);
    routeCfg = gate(resolved);
    originalJson = requestJson.deepCopy();
    stream = requestJson.path("stream").asBoolean(false);
    boolean logContent = cfg.server().logContent();
    if (logContent) {
      prompt = RouteResolver.clip(RouteResolver.lastUserText(requestJson), 4000);
    }
    relay =
        new ResponseRelay(
            ctx,
            callerFormat,
            stream,
            callerFormat.wantsStreamUsage(requestJson),
            keepAlive,
            logContent,
            startNanos,
            this);
    admission = new Admission(px.limits(), routeCfg, callerHeaders::get);
    attempts = new Attempts(px, cfg, routeCfg, admission, startNanos, this);
    Duration total = routeCfg.timeouts().total();
    totalTimer =
        timer(
            total,
            () -> {
              totalExpired = true;
              timeout("the call took longer than " + total.toMillis() + " ms");
            });
    chooseTier(RequestFacts.of(requestJson, callerHeaders::get));
  }

  /**
   * Budget gate: Block refuses (429), Downgrade narrows the route to its cheaper tier or target
   * before the tier is chosen; a caller over its quota is refused whatever the budget's action.
   */
  private RouteConfig gate(RouteConfig resolved) {
    try {
      RouteConfig admitted = px.budgetGate().admit(resolved, cfg);
      caller = CallerQuotas.callerOf(cfg, admitted.budget(), callerHeaders::get);
      px.budgetGate().callers().admit(caller, cfg.namespace(), admitted.model());
      return admitted;
    } catch (ProxyException blocked) {
      // A blocked budget (or caller) still lets the response cache answer (a hit costs nothing):
      // the call goes on to the lookup, and fails with this error on a miss. Not with a
      // classifier: asking it would spend.
      if (!px.responseCaches().caches(resolved) || resolved.classifier() != null) {
        throw blocked;
      }
      budgetBlocked = blocked;
      return resolved;
    }
  }

  /**
   * A tier forced at runtime, else the classifier's label (asked once, then cached), else rules.
   */
  private void chooseTier(RequestFacts facts) {
    RouteConfig.Tier forced =
        px.tierOverrides()
            .forced(route)
            .flatMap(name -> TierSelector.named(routeCfg, name))
            .orElse(null);
    if (forced != null) {
      useTier(forced, facts);
      return;
    }
    RouteConfig.Classifier classifier = routeCfg.classifier();
    if (classifier == null
        || classifier.target() == null
        || TierChoice.tierAsked(routeCfg, callerHeaders::get)) {
      useTier(TierChoice.select(routeCfg, facts, false), facts);
      return;
    }
    String key = ClassifierLabels.key(route, classifier, facts.lastUserText());
    ClassifierLabels.Entry cached = px.classifierLabels().get(key);
    if (cached != null) {
      RequestFacts labelled = facts.withClassifierLabel(cached.label());
      useTier(TierChoice.select(routeCfg, labelled, true), labelled);
      return;
    }
    ClassifierCall.classify(
        px,
        cfg,
        ctx.channel().eventLoop(),
        requestId,
        caller,
        callerFormat.label(),
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
            RequestFacts labelled = facts.withClassifierLabel(label);
            useTier(TierChoice.select(routeCfg, labelled, true), labelled);
          } catch (ProxyException e) {
            finalFail(e);
          }
        });
  }

  /**
   * Serves the call from tier {@code t}: its output limit, its candidates, then cache and admit.
   */
  private void useTier(RouteConfig.Tier t, RequestFacts facts) {
    switchTier(t);
    admission.reserve(facts.estimatedInputTokens() + OutputLimit.requested(requestJson));
    lookupThenAdmit(t);
  }

  private void switchTier(RouteConfig.Tier t) {
    tier = t.name();
    requestJson = originalJson.deepCopy();
    OutputLimit.apply(requestJson, t.maxTokens());
    attempts.restart(tier, TierChoice.candidates(routeCfg, t, requestId, callerHeaders::get));
  }

  /**
   * Serves the answer from the route's response cache when it holds one, else admits the call. The
   * lookup comes after the tier is chosen (the tier and its models are part of the key) and before
   * the rate limits and the provider: a hit takes nothing from the limits and costs nothing, so it
   * is served even when the route's budget blocks calls.
   */
  private void lookupThenAdmit(RouteConfig.Tier t) {
    String varying = callerFormat.answerVaryingHeader();
    cacheTicket =
        px.responseCaches()
            .ticket(
                cfg.namespace(),
                routeCfg,
                t,
                format,
                requestJson,
                callerHeaders.get(HttpHeaderNames.CACHE_CONTROL),
                varying == null ? null : callerHeaders.get(varying));
    if (cacheTicket != null && cacheTicket.mayStore() && stream) {
      relay.collectForCache(routeCfg.cache().response().maxSizeBytes());
    }
    if (cacheTicket == null || !cacheTicket.mayRead()) {
      if (budgetBlocked != null) {
        throw budgetBlocked;
      }
      admit();
      return;
    }
    cacheTicket.lookup().whenComplete((hit, e) -> onLoop(() -> afterLookup(hit)));
  }

  private void afterLookup(CachedAnswer hit) {
    if (hit != null) {
      cacheHit = hit;
      relay.servedFromCache(hit.response().finish());
      if (stream) {
        relay.write(CacheReplay.stream(format, hit, callerFormat.wantsStreamUsage(originalJson)));
        end(200, null);
        relay.endStream();
      } else {
        relay.sendWhole(Responses.json(200, CacheReplay.body(format, hit)), () -> end(200, null));
      }
    } else if (budgetBlocked != null) {
      finalFail(budgetBlocked);
    } else {
      admit();
    }
  }

  /**
   * The route's and the caller's rate limits: wait up to the route's {@code maxQueueWait} for
   * capacity, else answer 429 with Retry-After. Failing over cannot help with these limits.
   */
  private void admit() {
    if (finished) {
      return;
    }
    Duration wait = admission.tryAdmit();
    if (wait.isZero()) {
      attempts.next();
    } else if (admission.queue(wait)) {
      schedule(wait, this::admit);
    } else {
      finalFail(admission.refused(route, wait));
    }
  }

  // ---- attempts (Attempts.Driver) ----

  @Override
  public void send(CredentialConfig credential, String model) {
    this.credential = credential;
    this.model = model;
    adapter = ProviderAdapters.forProvider(credential.provider());
    passthrough = adapter.nativeFormat() == format;
    relay.attempt(adapter, credential, model, passthrough);
    try {
      String secret = adapter.secret(px.secrets(), credential);
      URI url = adapter.url(credential, model, stream);
      ProviderRequest upstream =
          ProviderRequest.post(url, upstreamBody(requestJson.deepCopy()), stream, requestId)
              .forwarding(
                  callerHeaders,
                  passthrough ? callerFormat.forwardedHeaders() : java.util.List.of())
              .authenticated(adapter, credential, secret);
      RouteConfig.Timeouts timeouts = routeCfg.timeouts();
      // A non-streamed answer arrives whole, so its first byte is its last: only the total timeout
      // bounds it. Streams must start within the first-token timeout.
      if (stream) {
        long ms = timeouts.firstToken().toMillis();
        firstTokenTimer =
            timer(
                timeouts.firstToken(),
                () -> timeout("no answer from the provider within " + ms + " ms"));
      }
      exchange =
          px.upstream()
              .send(
                  ctx.channel().eventLoop(),
                  url,
                  credential.caFile(),
                  upstream.build(),
                  timeouts.connect(),
                  guarded(attempts.number()));
      relay.exchange(exchange);
    } catch (ProxyException e) {
      fail(e);
    }
  }

  /** The caller's body forwarded as sent (same format) or translated through the neutral model. */
  private byte[] upstreamBody(ObjectNode json) {
    ObjectNode body =
        passthrough
            ? adapter.forward(json, model, stream)
            : adapter.encode(callerFormat.parseRequest(json), model);
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

  /** Passes the events of attempt {@code n} on only while it is the current attempt. */
  private ExchangeListener guarded(int n) {
    return new ExchangeListener() {
      @Override
      public void onHead(HttpResponse head) {
        if (n == attempts.number() && !finished) {
          relay.onHead(head);
        }
      }

      @Override
      public void onContent(ByteBuf content, boolean last) {
        if (n == attempts.number() && !finished) {
          relayContent(content, last);
        }
      }

      @Override
      public void onFailure(Throwable cause, boolean afterHead) {
        if (n == attempts.number() && !finished) {
          fail(UpstreamErrors.ofTransport(cause, stream, credential));
        }
      }
    };
  }

  private void relayContent(ByteBuf content, boolean last) {
    try {
      relay.onContent(content, last);
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
      relay.requestMore();
    }
  }

  /** The caller's connection drained: resume reading the provider. */
  public void onWritable() {
    if (!finished && relay != null) {
      relay.onWritable();
    }
  }

  /** The caller went away. */
  public void onClientClosed() {
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

  // ---- the answer (ResponseRelay.Outcome) ----

  @Override
  public void firstByte() {
    if (firstTokenTimer != null) {
      firstTokenTimer.cancel(false);
    }
  }

  @Override
  public void failed(ProxyException e) {
    fail(e);
  }

  /** A low-confidence answer is metered as its own call and the stronger tier is asked. */
  @Override
  public boolean escalates(ChatResponse response) {
    RouteConfig.Tier stronger =
        escalated ? null : Escalation.strongerTier(routeCfg, tier, response);
    if (stronger == null) {
      return false;
    }
    escalated = true;
    attempts.report(null, stream, relay.ttftNanos(), relay.upstreamStatus());
    CallRecord cheap = record(200, null, exit.cost(credential, model, relay.usage()));
    px.metrics().started(route); // the cheap call counts as a call of its own
    exit.meter(cheap, caller);
    relay.forgetAnswer();
    attempts.forgetFailure();
    switchTier(stronger);
    attempts.next();
    return true;
  }

  @Override
  public void complete() {
    end(200, null);
  }

  @Override
  public void decorate(HttpHeaders h) {
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
      h.set("x-tollgate-failovers", Integer.toString(attempts.failovers()));
    }
  }

  // ---- ending ----

  /** An attempt failed: move on to another target or retry when allowed, else end the call. */
  private void fail(ProxyException e) {
    if (finished) {
      return;
    }
    if (RetryPolicy.movesOn(
        e.kind(), relay.headersSent(), totalExpired, attempts.tracked(), routeCfg.retry())) {
      if (firstTokenTimer != null) {
        firstTokenTimer.cancel(false);
        firstTokenTimer = null;
      }
      if (exchange != null) {
        exchange.abort();
      }
      attempts.report(e.kind(), stream, relay.ttftNanos(), relay.upstreamStatus());
      attempts.failed(e, relay.attemptWait(), credential, model, requestId);
      attempts.next();
    } else {
      finalFail(e);
    }
  }

  /** Ends the call with {@code e}: an error response, or an error event when streaming began. */
  @Override
  public void finalFail(ProxyException e) {
    if (finished) {
      return;
    }
    relay.endedEarly();
    if (relay.headersSent()) {
      // the caller already has part of the answer: end the stream with an error event in its format
      relay.write(callerFormat.streamError(e.kind(), e.getMessage()));
      end(200, e.kind());
      relay.endStream();
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
    if (relay != null) {
      relay.release();
    }
    if (attempts != null) {
      attempts.report(kind, stream, relay.ttftNanos(), relay.upstreamStatus());
    }
    Usage usage = relay == null ? null : relay.usage();
    if (admission != null) {
      admission.settle(usage == null ? 0 : usage.inputTokens() + usage.outputTokens());
    }
    Cost cost = exit.cost(credential, model, usage);
    CallRecord record = record(status, kind, cost);
    if (!started) {
      px.metrics().started(route);
    } else {
      px.inFlight().decrementAndGet();
    }
    if (cacheHit != null) {
      px.responseCaches().meterHit(route, cacheHit);
    } else if (cacheTicket != null
        && relay.cacheable() != null
        && status == 200
        && kind == null
        && relay.usageComplete()
        && credential != null) {
      cacheTicket.store(
          new CachedAnswer(
              relay.cacheable(),
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
    exit.meter(record, caller);
    onDone.run();
  }

  /** What is known about this call (or its current attempt) for the log, metrics and ledger. */
  private CallRecord record(int status, ErrorKind kind, Cost cost) {
    boolean relayed = relay != null;
    return CallRecord.builder()
        .requestId(requestId)
        .api(callerFormat.label())
        .route(route)
        .tier(tier)
        .target(
            credential == null ? null : credential.provider().wireName(),
            credential == null ? null : credential.name(),
            model)
        .stream(stream)
        .outcome(status, kind)
        .usage(relayed ? relay.usage() : null, relayed && relay.usageComplete())
        .cost(cost)
        .timing(System.nanoTime() - startNanos, relayed ? relay.ttftNanos() : -1)
        .finishReason(
            relayed && relay.finish() != null ? callerFormat.finishReason(relay.finish()) : null)
        .failovers(attempts == null ? 0 : attempts.failovers())
        .upstreamStatus(relayed ? relay.upstreamStatus() : 0)
        .content(prompt, relayed ? relay.answerText() : null)
        .build();
  }

  // ---- the event loop ----

  @Override
  public boolean finished() {
    return finished;
  }

  @Override
  public void schedule(Duration d, Runnable r) {
    timer(d, r);
  }

  private ScheduledFuture<?> timer(Duration d, Runnable r) {
    return ctx.executor().schedule(r, d.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Runs {@code r} on this call's event loop (a Redis lookup answers on its own thread). */
  private void onLoop(Runnable r) {
    Runnable guarded =
        () -> {
          if (finished) {
            return;
          }
          try {
            r.run();
          } catch (ProxyException x) {
            finalFail(x);
          }
        };
    if (ctx.executor().inEventLoop()) {
      guarded.run();
    } else {
      ctx.executor().execute(guarded);
    }
  }
}
