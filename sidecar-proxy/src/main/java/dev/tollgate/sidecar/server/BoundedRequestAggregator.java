package dev.tollgate.sidecar.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Collects a request body up to the configured limit (routing needs the whole JSON) and answers 413
 * in the caller's API format beyond it, instead of Netty's plain-text 413: also to a caller that
 * announced a larger body with {@code Expect: 100-continue} (before it sends the body).
 */
final class BoundedRequestAggregator extends HttpObjectAggregator {
  private final EndpointHandler endpoints;
  private final long limit;

  BoundedRequestAggregator(int maxContentLength, EndpointHandler endpoints) {
    super(maxContentLength);
    this.endpoints = endpoints;
    this.limit = maxContentLength;
  }

  /**
   * Netty answers an {@code Expect: 100-continue} over the limit with its own bare 413; declining
   * here sends the request on to {@link #handleOversizedMessage}, which answers in the caller's
   * format (and closes an HTTP/1.1 connection, whose caller may still send the body).
   */
  @Override
  protected Object newContinueResponse(
      HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
    if (HttpUtil.is100ContinueExpected(start)
        && HttpUtil.getContentLength(start, -1L) > maxContentLength) {
      return null;
    }
    return super.newContinueResponse(start, maxContentLength, pipeline);
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
