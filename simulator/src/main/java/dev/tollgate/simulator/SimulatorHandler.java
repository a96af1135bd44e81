package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;
import static dev.tollgate.simulator.Http.send;
import static dev.tollgate.simulator.Http.sendJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One connection to the simulator: picks the {@link Dialect} by path, checks method, key and body,
 * then answers after the behaviour's time to first token, with the behaviour's fault if it draws
 * one. Delays are scheduled on the connection's event loop, never slept.
 */
final class SimulatorHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Dialect NOT_FOUND_DIALECT = Dialect.ALL.get(0);

  private final ProviderSimulator sim;

  SimulatorHandler(ProviderSimulator sim) {
    this.sim = sim;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    String body = req.content().toString(StandardCharsets.UTF_8);
    JsonNode json = Http.parse(body);
    sim.countRequest(req, json);
    QueryStringDecoder qs = new QueryStringDecoder(req.uri());
    String path = qs.path();
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    if (req.method().equals(HttpMethod.GET) && path.endsWith("/models")) {
      ObjectNode list = JSON.createObjectNode().put("object", "list");
      list.putArray("data").addObject().put("id", "sim-model").put("object", "model");
      sendJson(ctx, HttpResponseStatus.OK, list, keepAlive);
      return;
    }
    if (req.method().equals(HttpMethod.POST) && path.equals("/token")) {
      // an OAuth token endpoint, as a service-account key's token_uri (Vertex AI)
      sim.countTokenRequest();
      ObjectNode token =
          JSON.createObjectNode().put("access_token", ProviderSimulator.VERTEX_TOKEN);
      token.put("expires_in", 3600).put("token_type", "Bearer");
      sendJson(ctx, HttpResponseStatus.OK, token, keepAlive);
      return;
    }
    Dialect dialect = Dialect.forPath(path);
    if (dialect == null && path.startsWith("/v1/")) {
      ResourceEndpoints.answer(sim, ctx, req, path, keepAlive);
      return;
    }
    if (dialect == null) {
      sendJson(
          ctx,
          HttpResponseStatus.NOT_FOUND,
          NOT_FOUND_DIALECT.error(404, "no such path"),
          keepAlive);
      return;
    }
    if (!req.method().equals(HttpMethod.POST)) {
      sendJson(
          ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, dialect.error(405, "use POST"), keepAlive);
      return;
    }
    AwsSignatureCheck aws = sim.awsSignature();
    if (aws != null
        && (dialect instanceof BedrockDialect || dialect instanceof BedrockCountTokensDialect)) {
      byte[] raw = new byte[req.content().readableBytes()];
      req.content().getBytes(req.content().readerIndex(), raw);
      AwsSignatureCheck.Refusal refusal = aws.check(req, raw);
      if (refusal != null) {
        FullHttpResponse r =
            Http.jsonResponse(HttpResponseStatus.FORBIDDEN, dialect.error(403, refusal.message()));
        r.headers().set("x-amzn-ErrorType", refusal.errorType() + ":http://internal.amazon.com/");
        Http.send(ctx, r, keepAlive);
        return;
      }
    } else if (sim.requiredBearer() != null
        && !("Bearer " + sim.requiredBearer()).equals(req.headers().get("authorization"))) {
      sendJson(
          ctx,
          HttpResponseStatus.UNAUTHORIZED,
          dialect.error(401, "invalid or expired access token"),
          keepAlive);
      return;
    } else if (sim.requiredBearer() == null && !sim.accepts(dialect.apiKey(req, qs))) {
      sendJson(
          ctx, HttpResponseStatus.UNAUTHORIZED, dialect.error(401, "invalid api key"), keepAlive);
      return;
    }
    if (json == null) {
      sendJson(
          ctx, HttpResponseStatus.BAD_REQUEST, dialect.error(400, "body is not JSON"), keepAlive);
      return;
    }
    String model = dialect.model(path, json);
    String rejection = dialect.rejection(model, json);
    if (rejection != null) {
      sendJson(ctx, HttpResponseStatus.BAD_REQUEST, dialect.error(400, rejection), keepAlive);
      return;
    }
    SimulatorBehavior b = sim.behavior();
    Call call =
        Call.of(dialect, path, json, body.length(), b, sim.promptCacheHit(dialect, model, json));
    Fault fault =
        b.fault() != Fault.NONE && ThreadLocalRandom.current().nextDouble() < b.faultRate()
            ? b.fault()
            : Fault.NONE;
    long delay = b.timeToFirstToken().toMillis();
    if (fault == Fault.ECHO_KEY) {
      String echo =
          "invalid request with api key "
              + dialect.apiKey(req, qs)
              + " (authorization: "
              + req.headers().get("authorization")
              + ")";
      sendJson(ctx, HttpResponseStatus.BAD_REQUEST, dialect.error(400, echo), keepAlive);
      return;
    }
    ctx.executor()
        .schedule(() -> answer(ctx, call, fault, keepAlive), delay, TimeUnit.MILLISECONDS);
  }

  private void answer(ChannelHandlerContext ctx, Call call, Fault fault, boolean keepAlive) {
    Dialect dialect = call.dialect();
    switch (fault) {
      case RATE_LIMITED -> {
        FullHttpResponse r =
            Http.jsonResponse(
                HttpResponseStatus.TOO_MANY_REQUESTS, dialect.error(429, "rate limited"));
        r.headers().set(HttpHeaderNames.RETRY_AFTER, call.b().retryAfterSeconds());
        send(ctx, r, keepAlive);
      }
      case SERVER_ERROR ->
          sendJson(
              ctx,
              HttpResponseStatus.INTERNAL_SERVER_ERROR,
              dialect.error(500, "internal error"),
              keepAlive);
      case OVERLOADED -> {
        int status = dialect.overloadedStatus();
        sendJson(
            ctx,
            status == 529
                ? new HttpResponseStatus(529, "Overloaded")
                : HttpResponseStatus.valueOf(status),
            dialect.error(status, "overloaded"),
            keepAlive);
      }
      case RESET -> {
        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
        ctx.close();
      }
      case STALL -> {
        // never answer; the client's timeout must fire
      }
      case BAD_REQUEST ->
          sendJson(
              ctx,
              HttpResponseStatus.BAD_REQUEST,
              dialect.error(400, "this request is invalid"),
              keepAlive);
      case GARBAGE -> {
        if (call.stream()) {
          startStream(ctx, call);
          ctx.writeAndFlush(Http.sse(null, "this is {not json"));
          ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
              .addListener(ChannelFutureListener.CLOSE);
        } else {
          FullHttpResponse r =
              new DefaultFullHttpResponse(
                  HttpVersion.HTTP_1_1,
                  HttpResponseStatus.OK,
                  Unpooled.copiedBuffer("<html>gateway says hi</html>", StandardCharsets.UTF_8));
          r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html");
          send(ctx, r, keepAlive);
        }
      }
      default -> {
        sim.countAnswered(call);
        if (call.stream()) {
          stream(ctx, call, fault == Fault.BREAK_STREAM, keepAlive);
        } else {
          sendFull(ctx, call, fault == Fault.TRUNCATED_BODY, keepAlive);
        }
      }
    }
  }

  private void sendFull(ChannelHandlerContext ctx, Call call, boolean truncate, boolean keepAlive) {
    ObjectNode body = call.dialect().full(call);
    if (truncate) {
      byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
          .set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
      ctx.write(head);
      ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(bytes, 0, bytes.length / 2)))
          .addListener(ChannelFutureListener.CLOSE);
      sim.countOutput(call.output() / 2);
      return;
    }
    sim.countOutput(call.output());
    FullHttpResponse r = Http.jsonResponse(HttpResponseStatus.OK, body);
    call.dialect().headers(call, r.headers());
    send(ctx, r, keepAlive);
  }

  private void stream(
      ChannelHandlerContext ctx, Call call, boolean breakHalfway, boolean keepAlive) {
    List<Frame> frames = call.dialect().frames(call);
    startStream(ctx, call);
    int tps = call.b().tokensPerSecond();
    long intervalMicros = tps > 0 ? 1_000_000L / tps : 0;
    int stopAt = breakHalfway ? Math.max(1, frames.size() / 2) : frames.size();
    sendFrames(ctx, call.dialect(), frames, 0, stopAt, intervalMicros, breakHalfway, keepAlive);
  }

  private void sendFrames(
      ChannelHandlerContext ctx,
      Dialect dialect,
      List<Frame> frames,
      int from,
      int stopAt,
      long intervalMicros,
      boolean broken,
      boolean keepAlive) {
    int i = from;
    while (i < stopAt) {
      Frame f = frames.get(i);
      ctx.writeAndFlush(dialect.encode(f));
      sim.countOutput(f.tokens());
      i++;
      if (f.tokens() > 0 && intervalMicros > 0 && i < stopAt) {
        int next = i;
        ctx.executor()
            .schedule(
                () ->
                    sendFrames(
                        ctx, dialect, frames, next, stopAt, intervalMicros, broken, keepAlive),
                intervalMicros,
                TimeUnit.MICROSECONDS);
        return;
      }
    }
    if (broken) {
      ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
      ctx.close();
      return;
    }
    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
        .addListener(
            keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
  }

  private static void startStream(ChannelHandlerContext ctx, Call call) {
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, call.dialect().streamContentType())
        .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
        .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    ctx.writeAndFlush(head);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
