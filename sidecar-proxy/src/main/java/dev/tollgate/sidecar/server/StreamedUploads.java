package dev.tollgate.sidecar.server;

import dev.tollgate.sidecar.call.PassthroughCall;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import java.util.Locale;

/**
 * Takes passthrough requests whose body is not JSON (multipart file uploads, binary audio) out of
 * the bounded aggregation: their body goes to the provider piece by piece as it arrives ({@link
 * PassthroughCall#bodyPiece}), so a 200 MB upload never sits in memory. JSON bodies, which may name
 * a route or be rewritten (message batches), and every routed endpoint keep the aggregated body. An
 * OpenAI file upload small enough is held whole instead and goes on as one request, so that a batch
 * input file can be read ({@code call/OpenAiBatchUpload}). Sits before the aggregator; everything
 * it does not take goes on unchanged.
 */
final class StreamedUploads extends ChannelInboundHandlerAdapter {
  /** Set while a streamed body is arriving: the whole-request deadline does not apply to it. */
  static final AttributeKey<Boolean> STREAMING = AttributeKey.valueOf("tollgate.streaming-body");

  private final EndpointHandler endpoints;
  private PassthroughCall upload;
  // an OpenAI file upload held whole (a batch input file is read): its head and body so far
  private HttpRequest heldHead;
  private CompositeByteBuf heldBody;
  private long heldLimit;
  private boolean discarding;

  StreamedUploads(EndpointHandler endpoints) {
    this.endpoints = endpoints;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if ((heldHead != null || discarding) && msg instanceof HttpContent piece) {
      hold(ctx, piece);
      return;
    }
    if (upload != null && msg instanceof HttpContent piece) {
      PassthroughCall to = upload;
      if (piece instanceof LastHttpContent) {
        upload = null;
        ctx.channel().attr(STREAMING).set(false);
      }
      to.bodyPiece(piece);
      return;
    }
    if (msg instanceof HttpRequest head && !(msg instanceof HttpContent) && holds(ctx, head)) {
      heldHead = head;
      heldLimit = endpoints.maxHeldUploadBytes();
      heldBody = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
      ctx.channel().attr(STREAMING).set(true);
      if (HttpUtil.is100ContinueExpected(head)) {
        ctx.writeAndFlush(
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
      }
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
   * The next piece of a held upload: kept up to the limit (413 in OpenAI's format beyond, the rest
   * of the body read and dropped); the whole request goes on to the endpoints when it is complete.
   */
  private void hold(ChannelHandlerContext ctx, HttpContent piece) {
    boolean last = piece instanceof LastHttpContent;
    if (heldHead != null
        && heldBody.readableBytes() + (long) piece.content().readableBytes() > heldLimit) {
      String uri = heldHead.uri();
      dropHeld();
      discarding = true;
      endpoints.tooLarge(ctx, uri, heldLimit);
    }
    if (discarding) {
      piece.release();
      if (last) {
        discarding = false;
        ctx.channel().attr(STREAMING).set(false);
      }
      return;
    }
    heldBody.addComponent(true, piece.content().retain());
    piece.release();
    if (last) {
      HttpRequest head = heldHead;
      FullHttpRequest whole =
          new DefaultFullHttpRequest(
              head.protocolVersion(),
              head.method(),
              head.uri(),
              heldBody,
              head.headers(),
              ((LastHttpContent) piece).trailingHeaders());
      whole.setDecoderResult(head.decoderResult());
      heldHead = null;
      heldBody = null;
      ctx.channel().attr(STREAMING).set(false);
      ctx.fireChannelRead(whole);
    }
  }

  private void dropHeld() {
    if (heldBody != null) {
      heldBody.release();
    }
    heldHead = null;
    heldBody = null;
  }

  /**
   * An OpenAI file upload ({@code POST /v1/files}, multipart) that may be a batch input file and is
   * that declares a length small enough to hold ({@link EndpointHandler#maxHeldUploadBytes}): its
   * {@code purpose} is a form field that OpenAI's Java SDK sends after the file, so it is held
   * whole, and read (as a batch input file) or sent on as it came. A larger one, or one of unknown
   * length (chunked), streams as any other upload.
   */
  private boolean holds(ChannelHandlerContext ctx, HttpRequest head) {
    long declared = HttpUtil.getContentLength(head, -1L);
    return passthroughUpload(ctx, head)
        && held(head)
        && !HttpUtil.isTransferEncodingChunked(head)
        && declared >= 0
        && declared <= endpoints.maxHeldUploadBytes();
  }

  /** Whether {@code req} is an OpenAI file upload, held whole when it is small enough. */
  static boolean held(HttpRequest req) {
    String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
    return req.method().equals(HttpMethod.POST)
        && "/v1/files".equals(EndpointHandler.pathOf(req.uri()))
        && !req.headers().contains("anthropic-version")
        && type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data");
  }

  /**
   * A passthrough request with a body that is not JSON, arriving while no other call runs on the
   * connection (a pipelined one is aggregated and queued as before).
   */
  private static boolean streams(ChannelHandlerContext ctx, HttpRequest head) {
    return passthroughUpload(ctx, head);
  }

  private static boolean passthroughUpload(ChannelHandlerContext ctx, HttpRequest head) {
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
    dropHeld();
    discarding = false;
    ctx.fireChannelInactive();
  }
}
