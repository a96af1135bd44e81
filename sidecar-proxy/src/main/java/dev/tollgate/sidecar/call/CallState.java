package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.budget.CallerQuotas;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.format.CallerFormat;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/**
 * What one call has resolved so far, filled in by its stages in order (route, budget, tier,
 * target), and what its answer headers and its call record say about it.
 */
final class CallState {
  final String requestId;
  final ApiFormat format;
  final CallerFormat callerFormat;
  final long startNanos = System.nanoTime();

  /** The route's name; {@code _unknown} until the request named one. */
  String route = CallRecord.UNKNOWN;

  SidecarConfig cfg;

  /** The route as the budget gate admitted it (a Downgrade narrows it). */
  RouteConfig routeCfg;

  HttpHeaders callerHeaders;

  /** The caller whose quota the call counts against, or null. */
  CallerQuotas.Caller caller;

  /** What the call holds against its budget's allowance while in flight, or null. */
  dev.tollgate.sidecar.budget.BudgetGate.Hold budgetHold;

  boolean stream;

  /** The caller's body as resolved (read-only: what a rewritten answer depends on). */
  JsonNode callerBody;

  /** The caller asked for usage in the stream (OpenAI's {@code stream_options}). */
  boolean callerWantsUsage;

  /** The last user message, only when content logging is on. */
  String prompt;

  String tier;

  /** Who the call is for and what it asks (set when the body was read). */
  dev.tollgate.sidecar.metering.Attribution attribution;

  /** The current attempt's target; null before the first attempt. */
  Target target;

  CallState(String requestId, ApiFormat format) {
    this.requestId = requestId;
    this.format = format;
    this.callerFormat = CallerFormat.of(format);
  }

  /** Reads what the call's body says about the call: streaming, usage, the logged prompt. */
  void read(ObjectNode body) {
    callerBody = body;
    stream = body.path("stream").asBoolean(false);
    callerWantsUsage = callerFormat.wantsStreamUsage(body);
    if (cfg.server().logContent()) {
      prompt = RouteResolver.clip(RouteResolver.lastUserText(body), ResponseRelay.MAX_LOGGED_TEXT);
    }
  }

  /** The headers every answer carries: request id, and what served it once known. */
  void decorate(HttpHeaders h, CacheStage cache, int failovers) {
    h.set("x-request-id", requestId);
    if (cache != null) {
      cache.decorate(h, route, tier);
      if (cache.hit()) {
        return;
      }
    }
    if (target != null) {
      h.set("x-tollgate-route", route);
      h.set("x-tollgate-tier", tier);
      h.set("x-tollgate-provider", target.provider());
      h.set("x-tollgate-model", target.model());
      h.set("x-tollgate-failovers", Integer.toString(failovers));
    }
  }

  /** What is known about this call (or its current attempt) for the log, metrics and ledger. */
  CallRecord record(int status, ErrorKind kind, Cost cost, ResponseRelay relay, int failovers) {
    return record(status, kind, cost, relay, failovers, List.of());
  }

  /** The call's record, naming the targets passed over and why ({@link Attempts#skipped()}). */
  CallRecord record(
      int status,
      ErrorKind kind,
      Cost cost,
      ResponseRelay relay,
      int failovers,
      List<String> skipped) {
    boolean relayed = relay != null;
    return CallRecord.builder()
        .requestId(requestId)
        .api(callerFormat.label())
        .route(route)
        .tier(tier)
        .target(
            target == null ? null : target.provider(),
            target == null ? null : target.credential().name(),
            target == null ? null : target.model())
        .stream(stream)
        .outcome(status, kind)
        .usage(relayed ? relay.usage() : null, relayed && relay.usageComplete())
        .cost(cost)
        .timing(System.nanoTime() - startNanos, relayed ? relay.ttftNanos() : -1)
        .finishReason(
            relayed && relay.finish() != null ? callerFormat.finishReason(relay.finish()) : null)
        .failovers(failovers)
        .skipped(skipped)
        .upstreamStatus(relayed ? relay.upstreamStatus() : 0)
        .content(prompt, relayed && cfg.server().logContent() ? relay.answerText() : null)
        .attribution(attribution, relayed ? relay.toolCalls() : 0)
        .build();
  }
}
