package dev.tollgate.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** JSON and HTTP plumbing shared by the simulator's handler and its dialects. */
final class Http {
  static final ObjectMapper JSON = new ObjectMapper();

  private Http() {}

  /** The body as JSON, or null when it is empty or not JSON. */
  static JsonNode parse(String body) {
    try {
      return body == null || body.isBlank() ? null : JSON.readTree(body);
    } catch (Exception e) {
      return null;
    }
  }

  static DefaultHttpContent sse(String event, String data) {
    String text = (event == null ? "" : "event: " + event + "\n") + "data: " + data + "\n\n";
    return new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
  }

  static FullHttpResponse jsonResponse(HttpResponseStatus status, JsonNode body) {
    ByteBuf buf = Unpooled.wrappedBuffer(body.toString().getBytes(StandardCharsets.UTF_8));
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, buf);
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    return r;
  }

  static void sendJson(
      ChannelHandlerContext ctx, HttpResponseStatus status, JsonNode body, boolean keepAlive) {
    send(ctx, jsonResponse(status, body), keepAlive);
  }

  static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
    HttpUtil.setContentLength(r, r.content().readableBytes());
    HttpUtil.setKeepAlive(r, keepAlive);
    ctx.writeAndFlush(r)
        .addListener(
            keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
  }
}
