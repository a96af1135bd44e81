package dev.tollgate.sidecar.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.budget.CallerQuotas;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.metering.CallLog;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapters;
import dev.tollgate.sidecar.upstream.Exchange;
import dev.tollgate.sidecar.upstream.ExchangeListener;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A short, non-streamed call the sidecar makes on its own behalf (a route's classifier, an active
 * health probe): sends a neutral request to one provider model, meters it as a call of its own on
 * the given route and tier, and hands back the answer, or null on any failure. It never throws.
 */
final class ShortCall implements ExchangeListener {
  private static final int MAX_BODY = 256 * 1024;

  private final ProxyContext px;
  private final EventLoop loop;
  private final String requestId;
  private final CallerQuotas.Caller caller;
  private final String api;
  private final String route;
  private final String tier;
  private final RouteConfig.TargetRef target;
  private final Duration timeout;
  private final Consumer<ChatResponse> done;
  private final Duration connectTimeout;
  private final long startNanos = System.nanoTime();
  private CredentialConfig credential;
  private ProviderAdapter adapter;
  private Exchange exchange;
  private ScheduledFuture<?> timer;
  private ByteBuf body;
  private int status;
  private boolean finished;

  private ShortCall(
      ProxyContext px,
      EventLoop loop,
      String requestId,
      CallerQuotas.Caller caller,
      String api,
      String route,
      String tier,
      RouteConfig.TargetRef target,
      Duration timeout,
      Duration connectTimeout,
      Consumer<ChatResponse> done) {
    this.px = px;
    this.loop = loop;
    this.requestId = requestId;
    this.caller = caller;
    this.api = api;
    this.route = route;
    this.tier = tier;
    this.target = target;
    this.timeout = timeout;
    this.connectTimeout = connectTimeout;
    this.done = done;
  }

  /**
   * Sends {@code request} to {@code target}; {@code done} gets the answer, or null when the call
   * failed, on {@code loop} (at once when the call cannot even be made). Its cost counts against
   * {@code caller}'s quota when there is one (a classifier call made for a caller's request).
   */
  static void send(
      ProxyContext px,
      SidecarConfig cfg,
      EventLoop loop,
      String requestId,
      CallerQuotas.Caller caller,
      String api,
      String route,
      String tier,
      RouteConfig.TargetRef target,
      ChatRequest request,
      Duration timeout,
      Duration connectTimeout,
      Consumer<ChatResponse> done) {
    new ShortCall(
            px, loop, requestId, caller, api, route, tier, target, timeout, connectTimeout, done)
        .start(cfg, request);
  }

  private void start(SidecarConfig cfg, ChatRequest request) {
    try {
      RouteConfig.TargetRef t = target;
      credential =
          cfg.credential(t.credential())
              .orElseThrow(
                  () ->
                      new ProxyException(
                          ErrorKind.INTERNAL, "credential " + t.credential() + " is not declared"));
      adapter = ProviderAdapters.forProvider(credential.provider());
      String apiKey = adapter.secret(px.secrets(), credential);
      URI url = adapter.url(credential, t.model(), false);
      byte[] payload = Json.MAPPER.writeValueAsBytes(adapter.encode(request, t.model()));
      HttpHeaders headers = new DefaultHttpHeaders();
      headers.set(
          HttpHeaderNames.HOST,
          url.getPort() > 0 ? url.getHost() + ":" + url.getPort() : url.getHost());
      headers.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
      headers.set(HttpHeaderNames.ACCEPT, "application/json");
      headers.set(HttpHeaderNames.USER_AGENT, "tollgate-sidecar");
      headers.set("x-request-id", requestId);
      headers.setInt(HttpHeaderNames.CONTENT_LENGTH, payload.length);
      adapter.authenticate(headers, credential, apiKey);
      String path = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
      timer = loop.schedule(this::timeout, timeout.toMillis(), TimeUnit.MILLISECONDS);
      px.metrics().started(route);
      exchange =
          px.upstream()
              .send(
                  loop,
                  url,
                  credential.caFile(),
                  () ->
                      new DefaultFullHttpRequest(
                          HttpVersion.HTTP_1_1,
                          HttpMethod.POST,
                          path,
                          Unpooled.wrappedBuffer(payload),
                          headers.copy(),
                          new DefaultHttpHeaders()),
                  connectTimeout,
                  this);
    } catch (ProxyException | JsonProcessingException e) {
      // no call was made, so nothing is metered
      done.accept(null);
    }
  }

  @Override
  public void onHead(HttpResponse head) {
    status = head.status().code();
    body = Unpooled.buffer(512);
  }

  @Override
  public void onContent(ByteBuf content, boolean last) {
    if (finished) {
      return;
    }
    if (body.readableBytes() + content.readableBytes() > MAX_BODY) {
      exchange.abort();
      finish(null, null, ErrorKind.UPSTREAM_BAD_RESPONSE);
      return;
    }
    body.writeBytes(content);
    if (!last) {
      return;
    }
    if (status != 200) {
      finish(null, null, ErrorKind.UPSTREAM_ERROR);
      return;
    }
    JsonNode json = Json.parseOrNull(ReadableBytes.copy(body));
    try {
      ChatResponse r = json == null ? null : adapter.decode(json, target.model());
      if (r == null) {
        finish(null, null, ErrorKind.UPSTREAM_BAD_RESPONSE);
      } else {
        finish(r, r.usage(), null);
      }
    } catch (RuntimeException e) {
      finish(null, null, ErrorKind.UPSTREAM_BAD_RESPONSE);
    }
  }

  @Override
  public void onFailure(Throwable cause, boolean afterHead) {
    finish(null, null, ErrorKind.UPSTREAM_CONNECT);
  }

  private void timeout() {
    if (!finished) {
      exchange.abort();
      finish(null, null, ErrorKind.UPSTREAM_TIMEOUT);
    }
  }

  private void finish(ChatResponse answer, Usage usage, ErrorKind kind) {
    if (finished) {
      return;
    }
    finished = true;
    timer.cancel(false);
    if (body != null) {
      body.release();
      body = null;
    }
    String model = target.model();
    Cost cost = usage == null ? Cost.UNPRICED : px.costs().cost(credential, model, usage);
    CallRecord record =
        new CallRecord(
            requestId,
            api,
            route,
            tier,
            credential.provider().wireName(),
            credential.name(),
            model,
            false,
            kind == null ? 200 : kind.status(),
            kind,
            usage,
            usage != null,
            cost,
            System.nanoTime() - startNanos,
            -1,
            null,
            0,
            status,
            null,
            null);
    px.metrics().ended(record);
    px.ledger().record(record);
    px.budgetGate().callers().record(caller, cost.usd());
    CallLog.write(record);
    done.accept(answer);
  }
}
