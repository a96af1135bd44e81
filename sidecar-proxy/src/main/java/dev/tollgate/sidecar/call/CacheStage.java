package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.CacheReplay;
import dev.tollgate.sidecar.cache.CacheTicket;
import dev.tollgate.sidecar.cache.CachedAnswer;
import dev.tollgate.sidecar.cache.ResponseCaches;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.server.Responses;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.concurrent.EventExecutor;
import java.util.function.Consumer;

/**
 * A call's use of its route's response cache: the ticket for this request (its key, and whether it
 * may read and store), the answer a hit served, and at the end, the hit's metering or the answer
 * kept for the next identical request.
 */
final class CacheStage {
  private final ResponseCaches caches;
  private final CacheTicket ticket;
  private CachedAnswer hit;

  private CacheStage(ResponseCaches caches, CacheTicket ticket) {
    this.caches = caches;
    this.ticket = ticket;
  }

  /** The ticket of this request on tier {@code t}, or null when the route does not cache. */
  static CacheStage open(
      ResponseCaches caches, CallState call, RouteConfig.Tier t, ObjectNode body) {
    String varying = call.callerFormat.answerVaryingHeader();
    CacheTicket ticket =
        caches.ticket(
            call.cfg.namespace(),
            call.routeCfg,
            t,
            call.format,
            body,
            call.callerHeaders.get(HttpHeaderNames.CACHE_CONTROL),
            varying == null ? null : call.callerHeaders.get(varying));
    return ticket == null ? null : new CacheStage(caches, ticket);
  }

  boolean mayRead() {
    return ticket.mayRead();
  }

  boolean mayStore() {
    return ticket.mayStore();
  }

  /**
   * Looks the answer up; {@code then} gets it, or null, on {@code loop} (Redis answers elsewhere).
   */
  void lookup(EventExecutor loop, Consumer<CachedAnswer> then) {
    ticket
        .lookup()
        .whenComplete(
            (hit, e) -> {
              if (loop.inEventLoop()) {
                then.accept(hit);
              } else {
                loop.execute(() -> then.accept(hit));
              }
            });
  }

  /** Whether this request may be answered stale when every target failed. */
  boolean mayServeStale() {
    return ticket.mayServeStale();
  }

  /** Looks for an answer, stale ones included; {@code then} gets it, or null, on {@code loop}. */
  void lookupStale(EventExecutor loop, Consumer<CachedAnswer> then) {
    ticket
        .lookupStale()
        .whenComplete(
            (hit, e) -> {
              if (loop.inEventLoop()) {
                then.accept(hit);
              } else {
                loop.execute(() -> then.accept(hit));
              }
            });
  }

  boolean hit() {
    return hit != null;
  }

  /** Answers the call from {@code answer}, as a stream or as JSON in the caller's format. */
  void serve(CachedAnswer answer, CallState call, ResponseRelay relay, Runnable meter) {
    hit = answer;
    relay.servedFromCache(answer.response().finish());
    if (call.stream) {
      relay.write(CacheReplay.stream(call.format, answer, call.callerWantsUsage));
      meter.run();
      relay.endStream();
    } else {
      relay.sendWhole(Responses.json(200, CacheReplay.body(call.format, answer)), meter);
    }
  }

  /** The cache's headers: hit or miss, and what a hit served. */
  void decorate(HttpHeaders h, String route, String tier) {
    h.set("x-tollgate-cache", ticket.header());
    if (hit != null) {
      h.set("x-tollgate-route", route);
      h.set("x-tollgate-tier", tier);
      h.set("x-tollgate-model", hit.model());
    }
  }

  /**
   * The call ended: a hit is metered as one; a complete, successful answer from a provider is kept.
   */
  void end(CallState call, ChatResponse answer, boolean success, Cost cost) {
    if (hit != null) {
      caches.meterHit(call.route, hit);
    } else if (answer != null && success && call.target != null) {
      ticket.store(
          new CachedAnswer(
              answer,
              call.tier,
              call.target.provider(),
              call.target.credential().name(),
              call.target.model(),
              cost.priced() ? cost.usd() : null));
    }
  }
}
