package dev.tollgate.sidecar.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sits before the HTTP decoder and tells the connection's {@link ClientReadTimeout} when the bytes
 * of a request start to arrive, so that the request's deadline covers its header phase too. Removed
 * with the HTTP/1.1 steps when a connection moves to HTTP/2 (its streams are bounded by their own
 * timeouts).
 */
final class RequestStartWatch extends ChannelInboundHandlerAdapter {
  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf b
        && b.isReadable()
        && ctx.pipeline().context("client-timeout") != null
        && ctx.pipeline().get("client-timeout") instanceof ClientReadTimeout timeout) {
      timeout.requestBytesArrived(ctx.pipeline().context("client-timeout"));
    }
    ctx.fireChannelRead(msg);
  }
}
