package dev.tollgate.sidecar.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.format.CallerFormat;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Writes whole responses to callers. */
public final class Responses {
  private Responses() {}

  public static FullHttpResponse json(int status, JsonNode body) {
    return bytes(
        status,
        Json.write(body).getBytes(StandardCharsets.UTF_8),
        HttpHeaderValues.APPLICATION_JSON.toString());
  }

  public static FullHttpResponse bytes(int status, byte[] body, String contentType) {
    return of(status, Unpooled.wrappedBuffer(body), contentType);
  }

  public static FullHttpResponse of(int status, ByteBuf body, String contentType) {
    FullHttpResponse r =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), body);
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    HttpUtil.setContentLength(r, body.readableBytes());
    return r;
  }

  public static FullHttpResponse error(ApiFormat format, ProxyException e) {
    FullHttpResponse r = json(e.status(), CallerFormat.of(format).errorBody(e));
    if (e.retryAfter() != null) {
      r.headers().set(HttpHeaderNames.RETRY_AFTER, e.retryAfter());
    }
    return r;
  }

  /** Sends {@code r}, keeping the connection when the caller wants and {@code canKeep} allows. */
  public static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
    HttpUtil.setKeepAlive(r, keepAlive);
    ctx.writeAndFlush(r)
        .addListener(
            keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
  }
}
