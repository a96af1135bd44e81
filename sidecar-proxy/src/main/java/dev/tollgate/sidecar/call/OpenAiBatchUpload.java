package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.multipart.Attribute;
import io.netty.handler.codec.http.multipart.DefaultHttpDataFactory;
import io.netty.handler.codec.http.multipart.FileUpload;
import io.netty.handler.codec.http.multipart.HttpData;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.netty.handler.codec.http.multipart.HttpPostRequestEncoder;
import io.netty.handler.codec.http.multipart.InterfaceHttpData;
import io.netty.handler.codec.http.multipart.MemoryFileUpload;
import java.io.ByteArrayOutputStream;
import java.util.Locale;

/**
 * An OpenAI file upload ({@code POST /v1/files}, multipart) held whole by the server: when its
 * {@code purpose} is {@code batch}, the {@code file} part's JSONL lines are resolved and estimated
 * ({@link OpenAiBatchLines}) and the multipart body encoded again with the lines as they go to the
 * provider. Other purposes go on as they came. Netty's multipart decoder and encoder do the
 * parsing, in memory (the body is bounded before it gets here).
 *
 * @param body the multipart body to send
 * @param contentType its content type, with the new boundary
 * @param estimate what the file's batch is estimated to cost
 */
public record OpenAiBatchUpload(byte[] body, String contentType, OpenAiBatchEstimate estimate) {

  /** Whether {@code req} is an OpenAI file upload the server held whole. */
  static boolean applies(ApiFormat format, HttpRequest req, String path) {
    String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
    return format == ApiFormat.OPENAI
        && "POST".equals(req.method().name())
        && "/v1/files".equals(path)
        && type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")
        && req instanceof FullHttpRequest;
  }

  /** The upload as it goes to the provider, or null when it is not a batch input file. */
  static OpenAiBatchUpload prepare(FullHttpRequest req, OpenAiBatchLines lines) {
    DefaultHttpDataFactory memory = new DefaultHttpDataFactory(false);
    HttpPostRequestDecoder decoder = null;
    FullHttpRequest view = null;
    try {
      // the decoder reads the content: a duplicate, so that a non-batch upload goes on whole
      view = req.replace(req.content().retainedDuplicate());
      decoder = new HttpPostRequestDecoder(memory, view);
      String purpose = null;
      HttpData file = null;
      for (InterfaceHttpData part : decoder.getBodyHttpDatas()) {
        if (part instanceof HttpData d && "file".equals(d.getName())) {
          file = d; // Netty makes a part without a filename an Attribute
        } else if (part instanceof Attribute a && "purpose".equals(a.getName())) {
          purpose = a.getValue();
        }
      }
      if (!"batch".equals(purpose)) {
        return null;
      }
      if (file == null) {
        throw invalid("a batch upload needs a 'file' part");
      }
      byte[] jsonl = resolve(file.get(), lines);
      return encode(req, decoder, jsonl, file, lines.estimate());
    } catch (ProxyException e) {
      throw e;
    } catch (Exception e) {
      // the decoder's and encoder's checked exceptions: a body Netty cannot take apart
      throw invalid("the multipart body could not be read: " + e.getMessage());
    } finally {
      if (decoder != null) {
        decoder.destroy();
      }
      memory.cleanAllHttpData();
      if (view != null) {
        view.release();
      }
    }
  }

  /** The file with each line as it goes to the provider. */
  private static byte[] resolve(byte[] in, OpenAiBatchLines lines) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 64);
    int start = 0;
    int number = 1;
    for (int i = 0; i <= in.length; i++) {
      if (i == in.length || in[i] == '\n') {
        byte[] line = lines.line(in, start, i, number++);
        if (line != null) {
          out.writeBytes(line);
          out.write('\n');
        }
        start = i + 1;
      }
    }
    if (lines.estimate().items() == 0) {
      throw invalid("the batch input file holds no requests");
    }
    return out.toByteArray();
  }

  /** The parts again, in their order, with {@code jsonl} as the file. */
  private static OpenAiBatchUpload encode(
      FullHttpRequest req,
      HttpPostRequestDecoder decoder,
      byte[] jsonl,
      HttpData file,
      OpenAiBatchEstimate estimate)
      throws Exception {
    DefaultHttpDataFactory memory = new DefaultHttpDataFactory(false);
    HttpRequest head =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, req.method(), req.uri(), Unpooled.buffer(0));
    try {
      HttpPostRequestEncoder encoder = new HttpPostRequestEncoder(memory, head, true);
      for (InterfaceHttpData part : decoder.getBodyHttpDatas()) {
        if (part == file) {
          FileUpload f = file instanceof FileUpload u ? u : null;
          MemoryFileUpload upload =
              new MemoryFileUpload(
                  "file",
                  f == null ? "batch.jsonl" : f.getFilename(),
                  f == null || f.getContentType() == null
                      ? "application/octet-stream"
                      : f.getContentType(),
                  null,
                  null,
                  jsonl.length);
          upload.setContent(Unpooled.wrappedBuffer(jsonl));
          encoder.addBodyHttpData(upload);
        } else if (part instanceof Attribute a) {
          encoder.addBodyAttribute(a.getName(), a.getValue());
        }
      }
      HttpRequest finished = encoder.finalizeRequest();
      ByteArrayOutputStream out = new ByteArrayOutputStream(jsonl.length + 1024);
      if (finished instanceof FullHttpRequest full && !encoder.isChunked()) {
        out.writeBytes(ByteBufUtil.getBytes(full.content()));
      } else {
        while (!encoder.isEndOfInput()) {
          HttpContent chunk = encoder.readChunk(ByteBufAllocator.DEFAULT);
          try {
            out.writeBytes(ByteBufUtil.getBytes(chunk.content()));
          } finally {
            chunk.release();
          }
        }
      }
      encoder.cleanFiles();
      return new OpenAiBatchUpload(
          out.toByteArray(), finished.headers().get(HttpHeaderNames.CONTENT_TYPE), estimate);
    } finally {
      ((FullHttpRequest) head).release();
      memory.cleanAllHttpData();
    }
  }

  private static ProxyException invalid(String message) {
    return new ProxyException(ErrorKind.INVALID_REQUEST, message);
  }
}
