package dev.tollgate.sidecar.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.call.ActiveCall;
import dev.tollgate.sidecar.call.CallEnd;
import dev.tollgate.sidecar.call.PassthroughCall;
import dev.tollgate.sidecar.call.ProxyCall;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.format.CallerFormat;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AttributeKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar's HTTP endpoints on one caller connection: the two chat APIs, embeddings, token
 * counting, the model list, health, readiness and metrics. One call at a time per connection; the
 * connection stops reading while a call runs (HTTP/1.1 without pipelining, as the SDKs use it).
 */
final class EndpointHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger LOG = LoggerFactory.getLogger(EndpointHandler.class);
  static final AttributeKey<Boolean> CALL_ACTIVE = AttributeKey.valueOf("tollgate.call-active");
  private static final Pattern SAFE_REQUEST_ID = Pattern.compile("^[A-Za-z0-9._:-]{1,128}$");

  private final ProxyContext px;
  private final RequestMemory memory;
  private final ArrayDeque<FullHttpRequest> pipelined = new ArrayDeque<>();
  private ActiveCall call;

  EndpointHandler(ProxyContext px, RequestMemory memory) {
    this.px = px;
    this.memory = memory;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    if (call != null) {
      // a pipelined request (sent before the answer to the previous one): answer it after, in
      // order, and read no further until then
      pipelined.add(req.retain());
      ctx.channel().config().setAutoRead(false);
      return;
    }
    handle(ctx, req);
  }

  private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
    String path = pathOf(req.uri());
    ApiFormat format = formatOf(req, path);
    boolean keepAlive = HttpUtil.isKeepAlive(req) && !px.shuttingDown();
    if (!req.decoderResult().isSuccess()) {
      reject(
          ctx,
          format,
          new ProxyException(ErrorKind.INVALID_REQUEST, "malformed HTTP request"),
          false);
      return;
    }
    switch (path) {
      case "/v1/chat/completions", "/chat/completions" ->
          chat(ctx, req, ApiFormat.OPENAI, keepAlive);
      case "/v1/messages" -> chat(ctx, req, ApiFormat.ANTHROPIC, keepAlive);
      case "/v1/completions", "/completions" ->
          chat(ctx, req, ApiFormat.OPENAI_COMPLETIONS, keepAlive);
      case "/v1/embeddings", "/embeddings" ->
          chat(ctx, req, ApiFormat.OPENAI_EMBEDDINGS, keepAlive);
      case "/v1/responses", "/responses" -> chat(ctx, req, ApiFormat.OPENAI_RESPONSES, keepAlive);
      case "/v1/messages/count_tokens" ->
          chat(ctx, req, ApiFormat.ANTHROPIC_COUNT_TOKENS, keepAlive);
      case "/v1/models", "/models" -> {
        if (onlyGet(ctx, req, format, keepAlive)) {
          Responses.send(ctx, Responses.json(200, models(req)), keepAlive);
        }
      }
      case "/healthz" -> {
        if (onlyGet(ctx, req, format, keepAlive)) {
          Responses.send(
              ctx,
              Responses.bytes(200, "ok\n".getBytes(StandardCharsets.UTF_8), "text/plain"),
              keepAlive);
        }
      }
      case "/readyz" -> {
        if (onlyGet(ctx, req, format, keepAlive)) {
          SidecarConfig cfg = px.config().current();
          boolean ready = cfg != null && !px.shuttingDown();
          String text =
              ready
                  ? "ready: configuration " + cfg.version() + "\n"
                  : px.shuttingDown() ? "shutting down\n" : "no valid configuration loaded\n";
          Responses.send(
              ctx,
              Responses.bytes(
                  ready ? 200 : 503, text.getBytes(StandardCharsets.UTF_8), "text/plain"),
              keepAlive);
        }
      }
      case "/metrics" -> {
        if (onlyGet(ctx, req, format, keepAlive)) {
          Responses.send(
              ctx,
              Responses.bytes(200, px.metrics().scrape(), px.metrics().contentType()),
              keepAlive);
        }
      }
      default -> {
        if (path.startsWith("/v1/models/")) {
          model(ctx, req, path, format, keepAlive);
        } else if (path.startsWith("/v1/")) {
          passthrough(ctx, req, path, format, keepAlive);
        } else {
          reject(
              ctx,
              format,
              new ProxyException(
                  ErrorKind.NOT_FOUND,
                  "no such endpoint: "
                      + req.method()
                      + " "
                      + truncate(path)
                      + "; the sidecar serves POST /v1/chat/completions, /v1/responses, /v1/completions,"
                      + " /v1/embeddings,"
                      + " /v1/messages and /v1/messages/count_tokens, and passes other /v1/"
                      + " paths to the namespace's credentials"),
              keepAlive);
        }
      }
    }
  }

  private void chat(
      ChannelHandlerContext ctx, FullHttpRequest req, ApiFormat format, boolean keepAlive) {
    if (!req.method().equals(HttpMethod.POST)) {
      FullHttpResponse r =
          Responses.error(
              format,
              new ProxyException(
                  ErrorKind.METHOD_NOT_ALLOWED, req.method() + " is not allowed here; use POST"));
      r.headers().set(HttpHeaderNames.ALLOW, "POST");
      countRejected(format, ErrorKind.METHOD_NOT_ALLOWED, r.status().code());
      Responses.send(ctx, r, keepAlive);
      return;
    }
    ProxyException refused = BrowserGuard.problem(req.headers());
    if (refused != null) {
      countRejected(format, refused.kind(), refused.kind().status());
      Responses.send(ctx, Responses.error(format, refused), keepAlive);
      return;
    }
    RequestMemory.Lease body = reserve(ctx, req, format, keepAlive);
    if (body == null) {
      return;
    }
    String requestId = requestId(req);
    ctx.channel().attr(CALL_ACTIVE).set(true);
    ProxyCall c = new ProxyCall(px, ctx, format, requestId, keepAlive, () -> callEnded(ctx, body));
    call = c;
    c.start(req);
  }

  /**
   * Any other {@code /v1/} path: forwarded to the namespace's credential of the caller's format
   * (governed passthrough), or refused with how to enable it.
   */
  private void passthrough(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      String path,
      ApiFormat format,
      boolean keepAlive) {
    RequestMemory.Lease body = reserve(ctx, req, format, keepAlive);
    if (body == null) {
      return;
    }
    ctx.channel().attr(CALL_ACTIVE).set(true);
    PassthroughCall c =
        new PassthroughCall(px, ctx, format, requestId(req), keepAlive, () -> callEnded(ctx, body));
    call = c;
    c.start(req, path);
  }

  /**
   * Charges the request's body to the sidecar's shared request memory; null (the caller answered
   * with 503) when too many large bodies are in flight.
   */
  private RequestMemory.Lease reserve(
      ChannelHandlerContext ctx, FullHttpRequest req, ApiFormat format, boolean keepAlive) {
    RequestMemory.Lease body =
        memory.reserve(
            req.content().readableBytes(),
            StreamedUploads.held(req)
                ? RequestMemory.HELD_UPLOAD_EXPANSION
                : RequestMemory.EXPANSION);
    if (body == null) {
      reject(
          ctx,
          format,
          new ProxyException(
              ErrorKind.OVERLOADED,
              ErrorKind.OVERLOADED.status(),
              "the sidecar is handling too many large request bodies at once; retry shortly",
              "1"),
          keepAlive);
    }
    return body;
  }

  /** The largest OpenAI file upload held whole ({@link StreamedUploads}). */
  long maxHeldUploadBytes() {
    return px.openAiBatchFiles().maxUploadBytes();
  }

  /**
   * A passthrough request whose body is streamed rather than held ({@link StreamedUploads}): the
   * call that takes the body's pieces as they arrive.
   */
  PassthroughCall streamedPassthrough(ChannelHandlerContext ctx, HttpRequest head) {
    String path = pathOf(head.uri());
    boolean keepAlive = HttpUtil.isKeepAlive(head) && !px.shuttingDown();
    ctx.channel().attr(CALL_ACTIVE).set(true);
    PassthroughCall c =
        new PassthroughCall(
            px, ctx, formatOf(head, path), requestId(head), keepAlive, () -> callEnded(ctx, null));
    call = c;
    c.startStreamed(head, path);
    return c;
  }

  /**
   * The API a request speaks, for the paths OpenAI and Anthropic share ({@code /v1/files}, {@code
   * /v1/models/{id}}, ...): Anthropic's when it carries {@code anthropic-version}, which every
   * Anthropic SDK sends and Anthropic's API requires, else the path's.
   */
  static ApiFormat formatOf(HttpRequest req, String path) {
    ApiFormat byPath = ApiFormat.forPath(path);
    return byPath == ApiFormat.OPENAI && req.headers().contains("anthropic-version")
        ? ApiFormat.ANTHROPIC
        : byPath;
  }

  /** Whether {@code path} is passed through (no endpoint of the sidecar's own serves it). */
  static boolean passthroughPath(String path) {
    return path.startsWith("/v1/")
        && !ROUTED_PATHS.contains(path)
        && !path.equals("/v1/models")
        && !path.startsWith("/v1/models/");
  }

  private static final java.util.Set<String> ROUTED_PATHS =
      java.util.Set.of(
          "/v1/chat/completions",
          "/v1/messages",
          "/v1/completions",
          "/v1/embeddings",
          "/v1/responses",
          "/v1/messages/count_tokens");

  /** The caller of a streamed upload stopped sending (seen by {@link ClientReadTimeout}). */
  void uploadStalled() {
    if (call instanceof PassthroughCall p) {
      p.callerStalled();
    }
  }

  private void callEnded(ChannelHandlerContext ctx, RequestMemory.Lease body) {
    if (body != null) {
      body.release();
    }
    call = null;
    ctx.channel().attr(CALL_ACTIVE).set(false);
    FullHttpRequest next = pipelined.poll();
    if (next == null) {
      resumeReading(ctx);
    } else {
      ctx.executor().execute(() -> handlePipelined(ctx, next));
    }
  }

  /** {@code GET /v1/models/{id}}: a route alias is answered here, any other model passed on. */
  private void model(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      String path,
      ApiFormat format,
      boolean keepAlive) {
    String id = path.substring(path.lastIndexOf('/') + 1);
    SidecarConfig cfg = px.config().current();
    if (cfg == null || cfg.route(id).isEmpty() || !req.method().equals(HttpMethod.GET)) {
      passthrough(ctx, req, path, format, keepAlive);
      return;
    }
    ObjectNode m = Json.object();
    if (req.headers().contains("anthropic-version")) {
      m.put("type", "model")
          .put("id", id)
          .put("display_name", id)
          .put("created_at", "1970-01-01T00:00:00Z");
    } else {
      m.put("id", id).put("object", "model").put("created", 0).put("owned_by", "tollgate");
    }
    Responses.send(ctx, Responses.json(200, m), keepAlive);
  }

  private void handlePipelined(ChannelHandlerContext ctx, FullHttpRequest req) {
    try {
      if (ctx.channel().isActive()) {
        handle(ctx, req);
      }
    } finally {
      req.release();
    }
    if (call == null && pipelined.isEmpty()) {
      resumeReading(ctx);
    } else if (call == null) {
      FullHttpRequest next = pipelined.poll();
      ctx.executor().execute(() -> handlePipelined(ctx, next));
    }
  }

  private static void resumeReading(ChannelHandlerContext ctx) {
    if (!ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private boolean onlyGet(
      ChannelHandlerContext ctx, FullHttpRequest req, ApiFormat format, boolean keepAlive) {
    if (req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD)) {
      return true;
    }
    FullHttpResponse r =
        Responses.error(
            format,
            new ProxyException(
                ErrorKind.METHOD_NOT_ALLOWED, req.method() + " is not allowed here; use GET"));
    r.headers().set(HttpHeaderNames.ALLOW, "GET");
    Responses.send(ctx, r, keepAlive);
    return false;
  }

  private ObjectNode models(FullHttpRequest req) {
    SidecarConfig cfg = px.config().current();
    boolean anthropic = req.headers().contains("anthropic-version");
    ObjectNode root = Json.object();
    ArrayNode data = Json.object().putArray("data");
    if (cfg != null) {
      cfg.routes().stream()
          .map(RouteConfig::model)
          .sorted()
          .forEach(
              name -> {
                if (anthropic) {
                  data.addObject()
                      .put("type", "model")
                      .put("id", name)
                      .put("display_name", name)
                      .put("created_at", "1970-01-01T00:00:00Z");
                } else {
                  data.addObject()
                      .put("id", name)
                      .put("object", "model")
                      .put("created", 0)
                      .put("owned_by", "tollgate");
                }
              });
    }
    if (anthropic) {
      root.set("data", data);
      root.put("has_more", false);
      root.put("first_id", data.isEmpty() ? null : data.get(0).path("id").asText());
      root.put("last_id", data.isEmpty() ? null : data.get(data.size() - 1).path("id").asText());
    } else {
      root.put("object", "list");
      root.set("data", data);
    }
    return root;
  }

  private void reject(
      ChannelHandlerContext ctx, ApiFormat format, ProxyException e, boolean keepAlive) {
    countRejected(format, e.kind(), e.status());
    Responses.send(ctx, Responses.error(format, e), keepAlive);
  }

  /** Rejections before a call starts are logged and counted like calls, with no route. */
  private void countRejected(ApiFormat format, ErrorKind kind, int status) {
    CallRecord r =
        CallRecord.builder()
            .requestId(newRequestId())
            .api(CallerFormat.of(format).label())
            .outcome(status, kind)
            .build();
    px.metrics().started(CallRecord.UNKNOWN);
    CallEnd.of(px).meter(r, null);
  }

  /** Answers a request whose body exceeded the limit (called by the aggregator). */
  void tooLarge(ChannelHandlerContext ctx, String uri, long limit) {
    ApiFormat format = ApiFormat.forPath(pathOf(uri));
    reject(
        ctx,
        format,
        new ProxyException(
            ErrorKind.TOO_LARGE,
            "the request body is larger than the sidecar's limit of " + limit + " bytes"),
        // HTTP/1.1: the rest of the body is still on the wire, so the connection must go. An
        // HTTP/2 stream is answered and its remaining frames are read and dropped; closing it
        // early would leave the caller waiting for flow-control credit to finish sending.
        ctx.channel() instanceof Http2StreamChannel);
  }

  /** Answers a caller that stopped sending mid-request. */
  void clientTimeout(ChannelHandlerContext ctx, String uri) {
    ApiFormat format = ApiFormat.forPath(pathOf(uri == null ? "/" : uri));
    reject(
        ctx,
        format,
        new ProxyException(
            ErrorKind.CLIENT_TIMEOUT,
            "the request was not received in time; the sidecar closed the connection"),
        false);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (call != null) {
      call.onWritable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (call != null) {
      call.onClientClosed();
    }
    FullHttpRequest r;
    while ((r = pipelined.poll()) != null) {
      r.release();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("caller connection failed: {}", cause.toString());
    ctx.close();
  }

  private static String requestId(HttpRequest req) {
    String given = req.headers().get("x-request-id");
    return given != null && SAFE_REQUEST_ID.matcher(given).matches() ? given : newRequestId();
  }

  private static String newRequestId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return "tg-" + Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
  }

  static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  private static String truncate(String s) {
    return s.length() > 100 ? s.substring(0, 100) + "..." : s;
  }
}
