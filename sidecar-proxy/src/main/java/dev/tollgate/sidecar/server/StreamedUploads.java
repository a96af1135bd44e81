package dev.tollgate.sidecar.server;

import dev.tollgate.sidecar.call.PassthroughCall;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import java.util.Locale;

/**
 * Takes passthrough requests whose body is not JSON (multipart file uploads, binary audio) out of
 * the bounded aggregation: their body goes to the provider piece by piece as it arrives ({@link
 * PassthroughCall#bodyPiece}), so a 200 MB upload never sits in memory. JSON bodies, which may name
 * a route or be rewritten (message batches), and every routed endpoint keep the aggregated body.
 * Sits before the aggregator; everything it does not take goes on unchanged.
 */
final class StreamedUploads extends ChannelInboundHandlerAdapter {
  /** Set while a streamed body is arriving: the whole-request deadline does not apply to it. */
  static final AttributeKey<Boolean> STREAMING = AttributeKey.valueOf("tollgate.streaming-body");

  private final EndpointHandler endpoints;
  private PassthroughCall upload;

  StreamedUploads(EndpointHandler endpoints) {
    this.endpoints = endpoints;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (upload != null && msg instanceof HttpContent piece) {
      PassthroughCall to = upload;
      if (piece instanceof LastHttpContent) {
        upload = null;
        ctx.channel().attr(STREAMING).set(false);
      }
      to.bodyPiece(piece);
      return;
    }
    if (msg instanceof HttpRequest head && !(msg instanceof HttpContent) && streams(ctx, head)) {
      ctx.channel().attr(STREAMING).set(true);
      upload = endpoints.streamedPassthrough(ctx, head);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * A passthrough request with a body that is not JSON, arriving while no other call runs on the
   * connection (a pipelined one is aggregated and queued as before).
   */
  private static boolean streams(ChannelHandlerContext ctx, HttpRequest head) {
    if (!head.decoderResult().isSuccess()
        || head instanceof FullHttpRequest
        || Boolean.TRUE.equals(ctx.channel().attr(EndpointHandler.CALL_ACTIVE).get())
        || !EndpointHandler.passthroughPath(EndpointHandler.pathOf(head.uri()))) {
      return false;
    }
    boolean hasBody =
        HttpUtil.isTransferEncodingChunked(head) || HttpUtil.getContentLength(head, 0L) > 0;
    String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
    return hasBody && type != null && !type.toLowerCase(Locale.ROOT).contains("json");
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    upload = null;
    ctx.fireChannelInactive();
  }
}
