package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;
import static dev.tollgate.simulator.Http.sendJson;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.multipart.Attribute;
import io.netty.handler.codec.http.multipart.DefaultHttpDataFactory;
import io.netty.handler.codec.http.multipart.FileUpload;
import io.netty.handler.codec.http.multipart.HttpData;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.netty.handler.codec.http.multipart.InterfaceHttpData;
import java.util.Locale;

/**
 * {@code POST /v1/files} with a multipart body, taken before the simulator's aggregation: the body
 * is counted as it arrives and dropped, so uploads of hundreds of MB (OpenAI takes files up to 512
 * MB) are simulated in little memory. An OpenAI upload whose body stays within {@link
 * SimulatedFiles#MAX_FILE_BYTES} is kept instead, decoded with Netty's multipart decoder, and its
 * {@code file} part stored ({@link SimulatedFiles}), so batches can read it; a body without a
 * {@code file} or {@code purpose} part is refused 400 as OpenAI refuses it. Answers OpenAI's file
 * object, or Anthropic's file metadata for a request with {@code anthropic-version}; {@code
 * bytes}/{@code size_bytes} is what arrived (the stored file's size when stored).
 */
final class StreamedFileUploads extends ChannelInboundHandlerAdapter {
  private final ProviderSimulator sim;
  private HttpRequest upload;
  private long bytes;
  private CompositeByteBuf kept; // the OpenAI body while it fits in what a file may keep

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
      if (!AnthropicResources.isAnthropic(head.headers())) {
        kept = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
      }
      sim.countRequest(head, null);
      if (HttpUtil.is100ContinueExpected(head)) {
        ctx.writeAndFlush(
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
      }
      return;
    }
    if (upload != null && msg instanceof HttpContent piece) {
      bytes += piece.content().readableBytes();
      if (kept != null && bytes <= SimulatedFiles.MAX_FILE_BYTES) {
        kept.addComponent(true, piece.content().retain());
      } else if (kept != null) {
        kept.release();
        kept = null;
      }
      piece.release();
      if (piece instanceof LastHttpContent) {
        HttpRequest head = upload;
        upload = null;
        ByteBuf body = kept;
        kept = null;
        try {
          answer(ctx, head, body);
        } finally {
          if (body != null) {
            body.release();
          }
        }
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

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (kept != null) {
      kept.release();
      kept = null;
    }
    ctx.fireChannelInactive();
  }

  private void answer(ChannelHandlerContext ctx, HttpRequest head, ByteBuf body) {
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
    } else if (body == null) {
      ObjectNode file =
          JSON.createObjectNode().put("id", SimulatedFiles.UNSTORED_ID).put("object", "file");
      file.put("bytes", bytes).put("created_at", 1_700_000_000L);
      file.put("filename", "upload.jsonl").put("purpose", "batch").put("status", "processed");
      sendJson(ctx, HttpResponseStatus.OK, file, keepAlive);
    } else {
      store(ctx, head, body, keepAlive);
    }
  }

  /** Decodes the multipart {@code body} and stores its file part. */
  private void store(ChannelHandlerContext ctx, HttpRequest head, ByteBuf body, boolean keepAlive) {
    DefaultFullHttpRequest whole =
        new DefaultFullHttpRequest(
            head.protocolVersion(), head.method(), head.uri(), body.retainedDuplicate());
    whole.headers().set(head.headers());
    HttpPostRequestDecoder decoder = null;
    try {
      decoder = new HttpPostRequestDecoder(new DefaultHttpDataFactory(false), whole);
      String purpose = null;
      HttpData file = null;
      for (InterfaceHttpData part : decoder.getBodyHttpDatas()) {
        if (part instanceof HttpData d && d.getName().equals("file")) {
          file = d; // a part without a filename is an Attribute to Netty
        } else if (part instanceof Attribute a && a.getName().equals("purpose")) {
          purpose = a.getValue();
        }
      }
      if (file == null || purpose == null) {
        sendJson(
            ctx,
            HttpResponseStatus.BAD_REQUEST,
            new OpenAiDialect()
                .error(
                    400,
                    "Missing required parameter: '" + (file == null ? "file" : "purpose") + "'."),
            keepAlive);
        return;
      }
      SimulatedFiles.StoredFile stored =
          sim.files()
              .store(
                  file instanceof FileUpload f ? f.getFilename() : "upload", purpose, file.get());
      sendJson(ctx, HttpResponseStatus.OK, stored.object(), keepAlive);
    } catch (HttpPostRequestDecoder.ErrorDataDecoderException
        | java.io.IOException
        | IllegalArgumentException e) {
      sendJson(
          ctx,
          HttpResponseStatus.BAD_REQUEST,
          new OpenAiDialect().error(400, "The multipart body could not be read: " + e.getMessage()),
          keepAlive);
    } finally {
      if (decoder != null) {
        decoder.destroy();
      }
      whole.release();
    }
  }
}
