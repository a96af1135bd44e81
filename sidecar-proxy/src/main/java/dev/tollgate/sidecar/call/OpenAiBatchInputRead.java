package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.upstream.ExchangeListener;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.util.function.Consumer;

/**
 * Reads an OpenAI batch input file back from the provider ({@code GET /v1/files/{id}/content}) to
 * estimate a batch whose upload this sidecar does not remember: the content is split into lines as
 * it arrives, each estimated ({@link OpenAiBatchLines}) and dropped, so memory stays at one line
 * (at most the lines' bound). A line that is not a batch request is left to the provider, which
 * fails such a batch itself; it is not estimated. Ends with the estimate, with null when the
 * provider has no such file (the batch then goes on and the provider answers its own 404), or with
 * an error.
 */
final class OpenAiBatchInputRead implements ExchangeListener {
  private final OpenAiBatchLines lines;
  private final long maxLineBytes;
  private final Consumer<OpenAiBatchEstimate> done;
  private final Consumer<ProxyException> failed;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private int number = 1;
  private int status;
  private boolean over;

  OpenAiBatchInputRead(
      OpenAiBatchLines lines,
      long maxLineBytes,
      Consumer<OpenAiBatchEstimate> done,
      Consumer<ProxyException> failed) {
    this.lines = lines;
    this.maxLineBytes = maxLineBytes;
    this.done = done;
    this.failed = failed;
  }

  @Override
  public void onHead(HttpResponse head) {
    status = head.status().code();
  }

  @Override
  public void onContent(ByteBuf content, boolean last) {
    if (over) {
      return;
    }
    if (status != 200) {
      if (last) {
        end(
            () -> {
              if (status == 404) {
                done.accept(null);
              } else {
                failed.accept(unreadable("the provider answered HTTP " + status));
              }
            });
      }
      return;
    }
    try {
      for (int i = content.readerIndex(); i < content.writerIndex(); i++) {
        byte b = content.getByte(i);
        if (b == '\n') {
          flush();
        } else if (line.size() >= maxLineBytes) {
          throw new ProxyException(
              ErrorKind.TOO_LARGE,
              "line "
                  + number
                  + " of the batch input file is larger than the sidecar's limit of "
                  + maxLineBytes
                  + " bytes; the batch cannot be estimated");
        } else {
          line.write(b);
        }
      }
      if (last) {
        flush();
        end(() -> done.accept(lines.estimate()));
      }
    } catch (ProxyException e) {
      end(() -> failed.accept(e));
    }
  }

  private void flush() {
    byte[] bytes = line.toByteArray();
    line.reset();
    try {
      lines.line(bytes, 0, bytes.length, number);
    } catch (ProxyException e) {
      if (e.kind() != ErrorKind.INVALID_REQUEST) {
        throw e;
      }
      // not a batch request: the provider fails the batch for it, nothing to estimate
    }
    number++;
  }

  private void end(Runnable then) {
    over = true;
    then.run();
  }

  @Override
  public void onFailure(Throwable cause, boolean afterHead) {
    if (!over) {
      end(() -> failed.accept(unreadable(String.valueOf(cause.getMessage()))));
    }
  }

  private static ProxyException unreadable(String why) {
    return new ProxyException(
        ErrorKind.UPSTREAM_ERROR,
        "the batch input file could not be read back from the provider to estimate the batch ("
            + why
            + "); retry shortly");
  }
}
