package dev.tollgate.sidecar.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Collects a request body up to the configured limit (routing needs the whole JSON) and answers 413
 * in the caller's API format beyond it, instead of Netty's plain-text 413.
 */
final class BoundedRequestAggregator extends HttpObjectAggregator {
  private final EndpointHandler endpoints;
  private final long limit;

  BoundedRequestAggregator(int maxContentLength, EndpointHandler endpoints) {
    super(maxContentLength);
    this.endpoints = endpoints;
    this.limit = maxContentLength;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    if (oversized instanceof HttpRequest req) {
      endpoints.tooLarge(ctx, req.uri(), limit);
    } else {
      ctx.close();
    }
  }
}
