package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.budget.CallerQuotas;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapters;
import dev.tollgate.sidecar.server.ProxyContext;
import dev.tollgate.sidecar.upstream.Exchange;
import dev.tollgate.sidecar.upstream.ExchangeListener;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A short, non-streamed call the sidecar makes on its own behalf (a route's classifier, an active
 * health probe): sends a neutral request to one provider model, meters it as a call of its own on
 * the given route and tier, and hands back the answer, or null on any failure. It never throws.
 *
 * <pre>{@code
 * ShortCall.to(px, cfg, loop, target).requestId(id).api("probe").meteredAs(route, tier)
 *     .timeouts(timeout, connectTimeout).send(request, answer -> ...);
 * }</pre>
 */
public final class ShortCall implements ExchangeListener {
  private static final int MAX_BODY = 256 * 1024;

  private final ProxyContext px;
  private final SidecarConfig cfg;
  private final EventLoop loop;
  private final RouteConfig.TargetRef target;
  private final CallEnd exit;
  private String requestId;
  private CallerQuotas.Caller caller;
  private String api;
  private String route;
  private String tier;
  private Duration timeout;
  private Duration connectTimeout;
  private Consumer<ChatResponse> done;
  private long startNanos;
  private CredentialConfig credential;
  private ProviderAdapter adapter;
  private Exchange exchange;
  private ScheduledFuture<?> timer;
  private ByteBuf body;
  private int status;
  private boolean finished;

  private ShortCall(
      ProxyContext px, SidecarConfig cfg, EventLoop loop, RouteConfig.TargetRef target) {
    this.px = px;
    this.cfg = cfg;
    this.loop = loop;
    this.target = target;
    this.exit = CallEnd.of(px);
  }

  /** A call to {@code target} of {@code cfg}, run on {@code loop}. */
  public static ShortCall to(
      ProxyContext px, SidecarConfig cfg, EventLoop loop, RouteConfig.TargetRef target) {
    return new ShortCall(px, cfg, loop, target);
  }

  public ShortCall requestId(String id) {
    this.requestId = id;
    return this;
  }

  /**
   * The caller whose quota pays for it (a classifier call made for a caller's request), or null.
   */
  public ShortCall caller(CallerQuotas.Caller c) {
    this.caller = c;
    return this;
  }

  /** The call record's {@code api}: the caller's format, or {@code probe}. */
  public ShortCall api(String api) {
    this.api = api;
    return this;
  }

  /** The route and tier it is metered on. */
  public ShortCall meteredAs(String route, String tier) {
    this.route = route;
    this.tier = tier;
    return this;
  }

  /** The bound of the whole call, and of its connection. */
  public ShortCall timeouts(Duration total, Duration connect) {
    this.timeout = total;
    this.connectTimeout = connect;
    return this;
  }

  /**
   * Sends {@code request}; {@code done} gets the answer, or null when the call failed, on the loop
   * (at once when the call cannot even be made).
   */
  public void send(ChatRequest request, Consumer<ChatResponse> done) {
    this.done = done;
    this.startNanos = System.nanoTime();
    try {
      RouteConfig.TargetRef t = target;
      credential =
          cfg.credential(t.credential())
              .orElseThrow(
                  () ->
                      new ProxyException(
                          ErrorKind.INTERNAL, "credential " + t.credential() + " is not declared"));
      adapter = ProviderAdapters.forProvider(credential.provider());
      String secret = adapter.secret(px.secrets(), credential);
      URI url = adapter.url(credential, t.model(), false);
      byte[] payload = Json.MAPPER.writeValueAsBytes(adapter.encode(request, t.model()));
      ProviderRequest upstream =
          ProviderRequest.post(url, payload, false, requestId)
              .authenticated(adapter, credential, secret)
              .signed(adapter, credential, px.secrets());
      timer = loop.schedule(this::timeout, timeout.toMillis(), TimeUnit.MILLISECONDS);
      px.metrics().started(route);
      exchange =
          px.upstream()
              .send(loop, url, credential.caFile(), upstream.build(), connectTimeout, this);
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
    CallRecord record =
        CallRecord.builder()
            .requestId(requestId)
            .api(api)
            .route(route)
            .tier(tier)
            .target(credential.provider().wireName(), credential.name(), model)
            .stream(false)
            .outcome(kind == null ? 200 : kind.status(), kind)
            .usage(usage, usage != null)
            .cost(exit.cost(credential, model, usage))
            .timing(System.nanoTime() - startNanos, -1)
            .upstreamStatus(status)
            .build();
    exit.meter(record, caller);
    done.accept(answer);
  }
}
