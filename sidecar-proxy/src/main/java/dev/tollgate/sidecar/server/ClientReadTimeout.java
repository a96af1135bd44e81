package dev.tollgate.sidecar.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Protects the sidecar from slow or stalled callers: a caller that stops sending in the middle of a
 * request gets 408 and is disconnected; an idle keep-alive connection is closed quietly. Silence
 * while the sidecar itself is answering (a long stream) is not the caller's fault and is ignored.
 */
final class ClientReadTimeout extends IdleStateHandler {
  private final EndpointHandler endpoints;
  private String partialRequestUri;

  ClientReadTimeout(Duration timeout, EndpointHandler endpoints) {
    super(timeout.toMillis(), 0, 0, TimeUnit.MILLISECONDS);
    this.endpoints = endpoints;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof HttpRequest req) {
      partialRequestUri = req.uri();
    }
    if (msg instanceof LastHttpContent) {
      partialRequestUri = null;
    }
    super.channelRead(ctx, msg);
  }

  @Override
  protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
    if (evt.state() != IdleState.READER_IDLE
        || Boolean.TRUE.equals(ctx.channel().attr(EndpointHandler.CALL_ACTIVE).get())) {
      return;
    }
    if (partialRequestUri != null) {
      String uri = partialRequestUri;
      partialRequestUri = null;
      endpoints.clientTimeout(ctx, uri);
    } else {
      ctx.close();
    }
  }
}
