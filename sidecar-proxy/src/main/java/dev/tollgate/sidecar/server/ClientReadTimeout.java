package dev.tollgate.sidecar.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Protects the sidecar from slow or stalled callers: a caller that stops sending in the middle of a
 * request, or trickles it so that it is not complete within the read timeout, gets 408 and is
 * disconnected. Silence while the sidecar itself is answering (a long stream) is not the caller's
 * fault and is ignored. An idle keep-alive connection between requests is kept much longer ({@link
 * #KEEP_ALIVE_IDLE}) than the read timeout: closing it while the application's HTTP client still
 * pools it would make that client's next request fail. A streamed upload ({@link StreamedUploads})
 * may take longer than the timeout as a whole; it is cut off (408) only when it stops arriving for
 * the timeout while the sidecar is reading it.
 */
final class ClientReadTimeout extends IdleStateHandler {
  static final long KEEP_ALIVE_IDLE_NANOS = TimeUnit.MINUTES.toNanos(10);
  private static final Duration KEEP_ALIVE_IDLE = Duration.ofNanos(KEEP_ALIVE_IDLE_NANOS);

  private final EndpointHandler endpoints;
  private final Duration timeout;
  private String partialRequestUri;
  private ScheduledFuture<?> requestDeadline;
  private long lastActivity = System.nanoTime();

  ClientReadTimeout(Duration timeout, EndpointHandler endpoints) {
    super(timeout.toMillis(), 0, 0, TimeUnit.MILLISECONDS);
    this.endpoints = endpoints;
    this.timeout = timeout;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    lastActivity = System.nanoTime();
    if (msg instanceof HttpRequest req) {
      partialRequestUri = req.uri();
      // a whole request must arrive within the timeout, however slowly its bytes trickle in; the
      // deadline started with its first bytes ({@link #requestBytesArrived}) when it was seen then
      if (requestDeadline == null) {
        startDeadline(ctx);
      }
    }
    if (msg instanceof LastHttpContent) {
      partialRequestUri = null;
      if (requestDeadline != null) {
        requestDeadline.cancel(false);
        requestDeadline = null;
      }
    }
    super.channelRead(ctx, msg);
  }

  private void startDeadline(ChannelHandlerContext ctx) {
    requestDeadline =
        ctx.executor().schedule(() -> expire(ctx), timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The first bytes of a request arrived (seen before the HTTP decoder, by {@link
   * RequestStartWatch}): its headers and body must arrive within the timeout from now. Without this
   * a caller trickling its header lines byte by byte would hold the connection for the keep-alive
   * idle time, since the decoder produces nothing until the headers are complete.
   */
  void requestBytesArrived(ChannelHandlerContext ctx) {
    if (requestDeadline == null
        && partialRequestUri == null
        && !Boolean.TRUE.equals(ctx.channel().attr(EndpointHandler.CALL_ACTIVE).get())) {
      partialRequestUri = "/";
      startDeadline(ctx);
    }
  }

  private void expire(ChannelHandlerContext ctx) {
    requestDeadline = null;
    if (streaming(ctx)) {
      return;
    }
    if (partialRequestUri != null && ctx.channel().isActive()) {
      String uri = partialRequestUri;
      partialRequestUri = null;
      endpoints.clientTimeout(ctx, uri);
    }
  }

  private static boolean streaming(ChannelHandlerContext ctx) {
    return Boolean.TRUE.equals(ctx.channel().attr(StreamedUploads.STREAMING).get());
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
    // the connection moved to HTTP/2: its HTTP/1.1 deadline must not answer on it
    if (requestDeadline != null) {
      requestDeadline.cancel(false);
      requestDeadline = null;
    }
    partialRequestUri = null;
    super.handlerRemoved(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (requestDeadline != null) {
      requestDeadline.cancel(false);
    }
    super.channelInactive(ctx);
  }

  @Override
  protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
    if (evt.state() != IdleState.READER_IDLE) {
      return;
    }
    if (Boolean.TRUE.equals(ctx.channel().attr(EndpointHandler.CALL_ACTIVE).get())) {
      lastActivity = System.nanoTime();
      // silence while the sidecar holds the upload back (the provider is slow to take it) is not
      // the caller's
      if (streaming(ctx) && ctx.channel().config().isAutoRead()) {
        endpoints.uploadStalled();
      }
      return;
    }
    if (partialRequestUri != null) {
      expire(ctx);
    } else if (System.nanoTime() - lastActivity >= KEEP_ALIVE_IDLE.toNanos()) {
      ctx.close();
    }
  }
}
