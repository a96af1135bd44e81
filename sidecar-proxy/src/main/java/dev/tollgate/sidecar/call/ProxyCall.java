package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.CachedAnswer;
import dev.tollgate.sidecar.chat.Capabilities;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.provider.ProviderAdapters;
import dev.tollgate.sidecar.routing.OutputLimit;
import dev.tollgate.sidecar.routing.RequestFacts;
import dev.tollgate.sidecar.routing.TierSelector;
import dev.tollgate.sidecar.server.ProxyContext;
import dev.tollgate.sidecar.server.Responses;
import dev.tollgate.sidecar.trace.CallTrace;
import dev.tollgate.sidecar.upstream.Exchange;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.InvalidRequest;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call from an application to a provider, start to end, on the event loop of the caller's
 * connection. It keeps the call's state and runs its stages in order: resolve the route ({@link
 * RouteResolver}) → gate it on the budget → choose the tier ({@link TierChoice}, {@link
 * ClassifierCall}) → look up the response cache ({@link CacheStage}) → admit it under the rate
 * limits ({@link Admission}) → attempts until one answers ({@link Attempts}, {@link RetryPolicy}) →
 * relay the answer in the caller's format ({@link ResponseRelay}, {@link Escalation}) → end ({@link
 * CallEnd}, the same exit as every other call).
 */
public final class ProxyCall implements Attempts.Driver, ResponseRelay.Outcome, ActiveCall {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyCall.class);

  private final ProxyContext px;
  private final ChannelHandlerContext ctx;
  private final boolean keepAlive;
  private final Runnable onDone;
  private final CallEnd exit;
  private final CallState call;
  private ObjectNode originalJson;
  private ObjectNode requestJson;

  /** The neutral form of {@link #requestJson} for capability checks, and what it was read from. */
  private ChatRequest neutral;

  private ObjectNode neutralOf;

  /** Why {@link #requestJson} cannot be translated at all, or null. */
  private InvalidRequest untranslatable;

  private ProxyException budgetBlocked;
  private boolean started;
  private Admission admission;
  private Attempts attempts;
  private ResponseRelay relay;
  private CacheStage cache;
  private final CallTimers timers;
  private boolean escalated;
  private boolean finished;
  private boolean staleLookup;
  private long inputEstimate;
  private CallTrace trace;
  private int retriesSeen;
  private String tracedPrompt;

  /** A response-cache hit costs nothing, and that price is known. */
  private static final Cost CACHE_HIT = new Cost(java.math.BigDecimal.ZERO, true);

  /** How long, and how much, of an abandoned stream is read for its final usage. */
  static final Duration DRAIN_TIME = Duration.ofSeconds(60);

  static final long DRAIN_BYTES = 8L * 1024 * 1024;

  public ProxyCall(
      ProxyContext px,
      ChannelHandlerContext ctx,
      ApiFormat format,
      String requestId,
      boolean keepAlive,
      Runnable onDone) {
    this.px = px;
    this.ctx = ctx;
    this.keepAlive = keepAlive;
    this.onDone = onDone;
    this.exit = CallEnd.of(px);
    this.call = new CallState(requestId, format);
    this.timers = new CallTimers(ctx.executor());
  }

  public void start(FullHttpRequest request) {
    trace = px.tracing().call(request.headers(), CallTrace.operation(call.callerFormat.label()));

    guarded(
        () -> {
          resolve(request);
          gate();
          RequestFacts facts = RequestFacts.of(requestJson, call.callerHeaders::get);
          DispatchBarrier.afterNextPoll(
              ctx.executor(), () -> guarded(() -> stage(() -> chooseTier(facts))));
        });
  }

  private void guarded(Runnable stages) {
    try {
      stages.run();
    } catch (ProxyException e) {
      failBeforeHead(e);
    } catch (RuntimeException e) {
      LOG.error("request {} failed unexpectedly", call.requestId, e);
      failBeforeHead(
          new ProxyException(
              ErrorKind.INTERNAL,
              "the sidecar failed to handle this request; see its log for request "
                  + call.requestId));
    }
  }

  /** Reads the request and finds its route; from here on the call counts as in flight. */
  private void resolve(FullHttpRequest request) {
    requestJson = RouteResolver.resolve(px.config().current(), request, call);
    started = true;
    px.inFlight().incrementAndGet();
    px.metrics().started(call.route);
    trace.request(call.requestId, call.route, requestJson.path("model").asText(null), requestJson);
  }

  /** The budget gate ({@link BudgetCheck}), then the call's stages are set up. */
  private void gate() {
    budgetBlocked = BudgetCheck.admit(px.budgetGate(), px.responseCaches(), call);
    originalJson = requestJson;
    call.read(requestJson);
    call.attribution =
        dev.tollgate.sidecar.metering.Attribution.of(
            px.attributionHeaders(), call.callerHeaders::get, requestJson, call.cfg.namespace());
    trace.attributed(call.attribution);
    boolean traceContent = trace.wantsContent();
    if (traceContent) {
      tracedPrompt = RouteResolver.lastUserText(requestJson);
    }
    relay =
        new ResponseRelay(
            ctx, call, keepAlive, call.cfg.server().logContent() || traceContent, this);
    admission = new Admission(px.limits(), call.routeCfg, call.callerHeaders::get);
    attempts = new Attempts(px, call, admission, relay, this);
    timers.startTotal(call.routeCfg.timeouts().total(), this::timeout);
  }

  /** A tier forced at runtime, else the classifier's label when the route has one, else rules. */
  private void chooseTier(RequestFacts facts) {
    RouteConfig r = call.routeCfg;
    RouteConfig.Tier forced =
        px.tierOverrides().forced(call.route).flatMap(n -> TierSelector.named(r, n)).orElse(null);
    if (forced != null) {
      useTier(forced, facts);
    } else if (r.classifier() == null
        || r.classifier().target() == null
        || TierChoice.tierAsked(r, call.callerHeaders::get)) {
      useTier(TierChoice.select(r, facts, false), facts);
    } else {
      CallTrace.Step step = trace.step("tollgate.classifier");
      ClassifierCall.label(
          px,
          call,
          ctx.channel().eventLoop(),
          facts.lastUserText(),
          () -> finished,
          label -> {
            step.set("tollgate.classifier.label", label).end();
            RequestFacts labelled = facts.withClassifierLabel(label);
            stage(() -> useTier(TierChoice.select(r, labelled, true), labelled));
          });
    }
  }

  /** Serves the call from tier {@code t}: its output limit and candidates, then cache and admit. */
  private void useTier(RouteConfig.Tier t, RequestFacts facts) {
    switchTier(t);
    inputEstimate = facts.estimatedInputTokens();
    admission.reserve(facts.estimatedInputTokens() + OutputLimit.requested(requestJson));
    lookupThenAdmit(t);
  }

  private void switchTier(RouteConfig.Tier t) {
    call.tier = t.name();
    requestJson = BodyCopies.forTier(originalJson, t.maxTokens());
    attempts.restart(
        call.tier,
        pinnedToStoredResponse(
            embeddingsOfOneSize(
                t,
                TierChoice.candidates(call.routeCfg, t, call.requestId, call.callerHeaders::get))));
  }

  private List<RouteConfig.TargetRef> embeddingsOfOneSize(
      RouteConfig.Tier t, List<RouteConfig.TargetRef> all) {
    return call.format == ApiFormat.OPENAI_EMBEDDINGS
        ? TierChoice.sameDimensions(call.routeCfg, t, all)
        : all;
  }

  /**
   * A Responses call that continues a stored response ({@code previous_response_id}) goes only to
   * the targets at the credential that holds it; when this sidecar does not know the id (another
   * pod's, a restart, expired), only to a tier whose targets are all at one credential. Otherwise a
   * 400 in Responses format: the call must never reach another account.
   */
  private List<RouteConfig.TargetRef> pinnedToStoredResponse(List<RouteConfig.TargetRef> all) {
    JsonNode prev = originalJson.path("previous_response_id");
    if (call.format != ApiFormat.OPENAI_RESPONSES || !prev.isTextual()) {
      return all;
    }
    String pinned = px.storedResponses().credentialOf(prev.asText());
    if (pinned != null) {
      List<RouteConfig.TargetRef> at =
          all.stream().filter(r -> pinned.equals(r.credential())).toList();
      if (at.isEmpty()) {
        throw new ProxyException(
            ErrorKind.INVALID_REQUEST,
            "previous_response_id "
                + prev.asText()
                + " is held by credential "
                + pinned
                + ", which tier "
                + call.tier
                + " of route "
                + call.route
                + " does not target; a stored response can only be continued at the account"
                + " that created it");
      }
      return at;
    }
    List<String> credentials =
        all.stream().map(RouteConfig.TargetRef::credential).distinct().sorted().toList();
    if (credentials.size() > 1) {
      throw new ProxyException(
          ErrorKind.INVALID_REQUEST,
          "previous_response_id "
              + prev.asText()
              + " is unknown to this sidecar (created through another pod or before a restart, or"
              + " older than "
              + StoredResponses.TTL.toDays()
              + " days) and tier "
              + call.tier
              + " of route "
              + call.route
              + " targets several credentials ("
              + String.join(", ", credentials)
              + "): it cannot tell which account holds it; send the follow-up through the pod"
              + " that created the response, or route it to one credential");
    }
    return all;
  }

  /**
   * Serves the answer from the route's response cache when it holds one, else admits the call. The
   * lookup comes after the tier is chosen (the tier and its models are part of the key) and before
   * the rate limits and the provider: a hit takes nothing from the limits and costs nothing, so it
   * is served even when the route's budget blocks calls.
   */
  private void lookupThenAdmit(RouteConfig.Tier t) {
    cache = CacheStage.open(px.responseCaches(), call, t, requestJson);
    if (cache != null && cache.mayStore() && call.stream) {
      relay.collectForCache(call.routeCfg.cache().response().maxSizeBytes());
    }
    if (cache == null || !cache.mayRead()) {
      if (budgetBlocked != null) {
        throw budgetBlocked;
      }
      admit();
      return;
    }
    CallTrace.Step step = trace.step("tollgate.cache.lookup");
    cache.lookup(
        ctx.executor(),
        hit -> {
          step.set("tollgate.cache.hit", hit != null).end();
          stage(() -> afterLookup(hit));
        });
  }

  private void afterLookup(CachedAnswer hit) {
    if (hit != null) {
      cache.serve(hit, call, relay, () -> end(200, null));
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
      enterInFlight();
    } else if (admission.queue(wait)) {
      timers.schedule(wait, this::admit);
    } else {
      finalFail(admission.refused(call.route, wait));
    }
  }

  /**
   * The route's in-flight cap: a slot, else wait in its queue for what is left of {@code
   * maxQueueWait}, else 429 with Retry-After. The slot is freed when the call ends ({@link #end}).
   */
  private void enterInFlight() {
    switch (admission.enterInFlight(ctx.executor(), () -> stage(attempts::next))) {
      case ADMITTED -> attempts.next();
      case QUEUED ->
          timers.schedule(
              admission.queueLeft(),
              () -> {
                if (!finished && admission.abandonWait()) {
                  px.metrics().inFlightRejected(call.route, "queue_timeout");
                  finalFail(admission.inFlightRefused(call.route, true));
                }
              });
      case REFUSED -> {
        px.metrics().inFlightRejected(call.route, "queue_full");
        finalFail(admission.inFlightRefused(call.route, false));
      }
    }
  }

  /** Sends attempt {@code attempts.number()} to {@code model} of {@code credential}. */
  @Override
  public void send(CredentialConfig credential, String model) {
    Target t = Target.of(credential, model, call.format);
    call.target = t;
    relay.attempt(t);
    try {
      ProviderRequest upstream =
          ProviderRequest.forAttempt(
              call,
              t,
              BodyCopies.forAttempt(requestJson),
              px.secrets(),
              () -> px.metrics().promptCacheMarked(call.route, t.provider(), model));
      boolean retried = attempts.retries() > retriesSeen;
      retriesSeen = attempts.retries();
      trace.attemptStarted(
          attempts.number(), retried, t.provider(), credential.name(), model, upstream.url());
      upstream.traced(trace::inject);

      relay.redacting(upstream.secret());
      RouteConfig.Timeouts timeouts = call.routeCfg.timeouts();
      // A non-streamed answer arrives whole, so its first byte is its last: only the total timeout
      // bounds it. Streams must start within the first-token timeout.
      if (call.stream) {
        timers.startFirstToken(timeouts.firstToken(), this::timeout);
      }
      Exchange exchange =
          px.upstream()
              .send(
                  ctx.channel().eventLoop(),
                  upstream.url(),
                  credential.caFile(),
                  upstream.build(),
                  timeouts.connect(),
                  new CurrentAttempt(attempts.number(), attempts::number, relay));
      relay.exchange(exchange);
    } catch (ProxyException e) {
      failed(e);
    }
  }

  @Override
  public String unfit(CredentialConfig credential, String model) {
    Target t = Target.of(credential, model, call.format);
    if (t.passthrough() || t.adapter() != ProviderAdapters.forProvider(credential.provider())) {
      return null; // forwarded as sent, or not a chat call (the endpoint's adapter decides)
    }
    if (neutralOf != requestJson) {
      neutral = null;
      untranslatable = null;
      neutralOf = requestJson;
      try {
        neutral = call.callerFormat.parseRequest(requestJson); // a bad request fails here: a 400
      } catch (InvalidRequest e) {
        if (!e.untranslatable()) {
          throw e;
        }
        untranslatable = e; // valid, but only a target speaking the caller's format can serve it
      }
    }
    return neutral == null
        ? Capabilities.UNTRANSLATABLE
        : t.adapter().capabilities(model).missing(neutral);
  }

  @Override
  public ProxyException unfitRefusal(String feature) {
    return Capabilities.UNTRANSLATABLE.equals(feature) && untranslatable != null
        ? untranslatable
        : Capabilities.refused(feature, null);
  }

  // ---- the caller's connection, timeouts ----

  /** The caller's connection drained: resume reading the provider. */
  @Override
  public void onWritable() {
    if (!finished && relay != null) {
      relay.onWritable();
    }
  }

  /**
   * The caller went away. A stream under way is read on for the provider's final usage (bounded by
   * {@link #DRAIN_TIME}, {@link #DRAIN_BYTES} and the total timeout): the provider bills the whole
   * answer it generates, and OpenAI-style streams report usage only at their end.
   */
  @Override
  public void onClientClosed() {
    if (finished) {
      return;
    }
    if (relay != null && relay.drainForUsage(DRAIN_TIME, DRAIN_BYTES, this::endAbandoned)) {
      return;
    }
    if (relay != null) {
      relay.abort();
    }
    endAbandoned();
  }

  private void endAbandoned() {
    if (finished) {
      return;
    }
    if (relay != null) {
      relay.estimateAbandoned(inputEstimate);
    }
    end(ErrorKind.CLIENT_CLOSED.status(), ErrorKind.CLIENT_CLOSED);
  }

  private void timeout(String message) {
    if (!finished && relay.draining()) {
      relay.abort();
      relay.finishDrain();
      return;
    }
    if (!finished) {
      relay.abort();
      failed(new ProxyException(ErrorKind.UPSTREAM_TIMEOUT, message));
    }
  }

  // ---- what the relay reports ----

  @Override
  public void firstByte() {
    timers.firstByte();
  }

  /** A low-confidence answer is metered as its own call and the stronger tier is asked. */
  @Override
  public boolean escalates(ChatResponse response) {
    RouteConfig.Tier stronger =
        escalated ? null : Escalation.strongerTier(call.routeCfg, call.tier, response);
    if (stronger == null) {
      return false;
    }
    escalated = true;
    attempts.report(null);
    trace.attemptEnded(null, relay.upstreamStatus());
    trace.escalating(call.tier, stronger.name());
    Target t = call.target;
    Cost cost = exit.cost(t.credential(), t.model(), relay.usage());
    px.metrics().started(call.route); // the cheap call counts as a call of its own
    exit.meter(
        call.record(200, null, cost, relay, attempts.failovers(), attempts.skipped()), call.caller);
    relay.forgetAnswer();
    attempts.forgetFailure();
    switchTier(stronger);
    attempts.next();
    return true;
  }

  @Override
  public void complete() {
    pinStoredResponse();
    end(200, null);
  }

  /**
   * A Responses API answer from a provider that keeps it ({@code store} is on unless the caller
   * turned it off): its id is pinned to the credential that holds it.
   */
  private void pinStoredResponse() {
    Target t = call.target;
    boolean notStored =
        requestJson.path("store").isBoolean() && !requestJson.path("store").asBoolean();
    if (call.format == ApiFormat.OPENAI_RESPONSES
        && t != null
        && t.passthrough()
        && relay != null
        && !notStored) {
      px.storedResponses().pin(relay.responseId(), t.credential().name());
    }
  }

  @Override
  public void decorate(HttpHeaders h) {
    call.decorate(h, cache, attempts == null ? 0 : attempts.failovers());
  }

  // ---- ending ----

  /** An attempt failed: move on to another target or retry when allowed, else end the call. */
  @Override
  public void failed(ProxyException e) {
    if (finished) {
      return;
    }
    RouteConfig.Retry retry = call.routeCfg.retry();
    if (!RetryPolicy.movesOn(e.kind(), relay.headersSent(), timers.totalExpired(), retry)) {
      finalFail(e);
      return;
    }
    timers.attemptEnded();
    relay.abort();
    attempts.report(e.kind());
    trace.attemptEnded(e.kind(), relay.upstreamStatus());
    attempts.failed(e, call.target.credential(), call.target.model(), call.requestId);
    attempts.next();
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
      relay.write(call.callerFormat.streamError(e.kind(), e.getMessage()));
      end(200, e.kind());
      relay.endStream();
    } else if (!staleLookup && cache != null && cache.mayServeStale() && providersFailed(e)) {
      serveStale(e);
    } else {
      failBeforeHead(e);
    }
  }

  /**
   * Whether {@code e} means the providers could not answer (down, overloaded, rate limited, timed
   * out, unreachable), as opposed to a refusal of the request itself or of this sidecar's limits.
   */
  static boolean providersFailed(ProxyException e) {
    return switch (e.kind()) {
      case UPSTREAM_RATE_LIMITED,
          UPSTREAM_AUTH,
          UPSTREAM_ERROR,
          UPSTREAM_OVERLOADED,
          UPSTREAM_CONNECT,
          UPSTREAM_TIMEOUT,
          UPSTREAM_BAD_RESPONSE,
          UPSTREAM_STREAM_BROKEN,
          MISSING_CREDENTIAL ->
          true;
      default -> false;
    };
  }

  /**
   * Every target failed with {@code e}: answers from the response cache, an answer past its ttl
   * included ({@code serveStaleOnError}), else fails with {@code e}. The last attempt's failure
   * still counts against its target's health; the answer is metered as a cache hit.
   */
  private void serveStale(ProxyException e) {
    staleLookup = true;
    relay.abort();
    attempts.report(e.kind());
    cache.lookupStale(
        ctx.executor(),
        stale ->
            stage(
                () -> {
                  if (stale == null) {
                    failBeforeHead(e);
                    return;
                  }
                  LOG.warn(
                      "request {} on route {}: every target failed ({}); answered from the"
                          + " response cache with a stale answer",
                      call.requestId,
                      call.route,
                      e.kind().label());
                  timers.cancel();
                  call.target = null; // the answer is the cache's, not the failed target's
                  cache.serve(stale, call, relay, () -> end(200, null));
                }));
  }

  private void failBeforeHead(ProxyException e) {
    FullHttpResponse r = Responses.error(call.format, e);
    decorate(r.headers());
    end(e.status(), e.kind());
    Responses.send(ctx, r, keepAlive);
  }

  private void end(int status, ErrorKind kind) {
    if (finished) {
      return;
    }
    finished = true;
    timers.cancel();
    Usage usage = null;
    if (relay != null) {
      relay.release();
      attempts.report(kind);
      usage = relay.usage();
      admission.settle(usage == null ? 0 : usage.inputTokens() + usage.outputTokens());
    }
    Target t = call.target;
    Cost cost =
        cache != null && cache.hit()
            ? CACHE_HIT
            : t == null ? Cost.UNPRICED : exit.cost(t.credential(), t.model(), usage);
    CallRecord record =
        call.record(
            status,
            kind,
            cost,
            relay,
            attempts == null ? 0 : attempts.failovers(),
            attempts == null ? List.of() : attempts.skipped());
    if (!started) {
      px.metrics().started(call.route);
    } else {
      px.inFlight().decrementAndGet();
    }
    if (cache != null) {
      boolean success = status == 200 && kind == null && relay.usageComplete();
      cache.end(call, relay.cacheable(), success, cost);
    }
    exit.warnIfUnpriced(record);
    exit.meter(record, call.caller);
    if (trace != null) {
      trace.end(
          record, tracedPrompt, tracedPrompt != null && relay != null ? relay.answerText() : null);
    }
    px.budgetGate().release(call.budgetHold);
    onDone.run();
  }

  // ---- the event loop ----

  @Override
  public boolean finished() {
    return finished;
  }

  @Override
  public void schedule(Duration d, Runnable r) {
    timers.schedule(d, r);
  }

  /**
   * Runs a stage resumed on the event loop (after a lookup or a classifier): it may end the call.
   */
  private void stage(Runnable r) {
    if (finished) {
      return;
    }
    try {
      r.run();
    } catch (ProxyException e) {
      finalFail(e);
    }
  }
}
