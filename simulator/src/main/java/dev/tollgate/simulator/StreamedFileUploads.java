package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;
import static dev.tollgate.simulator.Http.sendJson;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.Locale;

/**
 * {@code POST /v1/files} with a multipart body, taken before the simulator's aggregation: the body
 * is counted and dropped as it arrives, so uploads of hundreds of MB (OpenAI takes files up to 512
 * MB) are simulated in little memory. Answers OpenAI's file object, or Anthropic's file metadata
 * for a request with {@code anthropic-version}; {@code bytes}/{@code size_bytes} is what arrived.
 */
final class StreamedFileUploads extends ChannelInboundHandlerAdapter {
  private final ProviderSimulator sim;
  private HttpRequest upload;
  private long bytes;

  StreamedFileUploads(ProviderSimulator sim) {
    this.sim = sim;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (upload == null
        && msg instanceof HttpRequest head
        && !(msg instanceof HttpContent)
        && isUpload(head)) {
      upload = head;
      bytes = 0;
      sim.countRequest(head, null);
      if (HttpUtil.is100ContinueExpected(head)) {
        ctx.writeAndFlush(
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
      }
      return;
    }
    if (upload != null && msg instanceof HttpContent piece) {
      bytes += piece.content().readableBytes();
      piece.release();
      if (piece instanceof LastHttpContent) {
        HttpRequest head = upload;
        upload = null;
        answer(ctx, head);
      }
      return;
    }
    ctx.fireChannelRead(msg);
  }

  private static boolean isUpload(HttpRequest head) {
    String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
    String uri = head.uri();
    return head.method().equals(HttpMethod.POST)
        && (uri.equals("/v1/files") || uri.startsWith("/v1/files?"))
        && type.toLowerCase(Locale.ROOT).startsWith("multipart/");
  }

  private void answer(ChannelHandlerContext ctx, HttpRequest head) {
    boolean keepAlive = HttpUtil.isKeepAlive(head);
    boolean anthropic = AnthropicResources.isAnthropic(head.headers());
    String auth = head.headers().get(HttpHeaderNames.AUTHORIZATION, "");
    String key =
        anthropic
            ? head.headers().get("x-api-key")
            : auth.startsWith("Bearer ") ? auth.substring(7) : null;
    if (!sim.accepts(key)) {
      sendJson(
          ctx,
          HttpResponseStatus.UNAUTHORIZED,
          anthropic
              ? AnthropicResources.error("authentication_error", "invalid x-api-key")
              : new OpenAiDialect().error(401, "invalid api key"),
          keepAlive);
    } else if (anthropic && !head.headers().get("anthropic-beta", "").contains("files-api-")) {
      sendJson(
          ctx,
          HttpResponseStatus.BAD_REQUEST,
          AnthropicResources.error(
              "invalid_request_error", "the Files API is in beta: send anthropic-beta"),
          keepAlive);
    } else if (anthropic) {
      sendJson(ctx, HttpResponseStatus.OK, AnthropicResources.file("file_sim", bytes), keepAlive);
    } else {
      ObjectNode file = JSON.createObjectNode().put("id", "file-sim").put("object", "file");
      file.put("bytes", bytes).put("created_at", 1_700_000_000L);
      file.put("filename", "upload.jsonl").put("purpose", "batch").put("status", "processed");
      sendJson(ctx, HttpResponseStatus.OK, file, keepAlive);
    }
  }
}
