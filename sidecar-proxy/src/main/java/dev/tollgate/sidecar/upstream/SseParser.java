package dev.tollgate.sidecar.upstream;

import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Incremental parser of {@code text/event-stream} bodies: feed it the bytes as they arrive, in any
 * split, and it reports whole events. Lines are cut on bytes, so a UTF-8 character split across two
 * network reads is decoded whole.
 */
public final class SseParser {
  /** Receives each complete event. */
  public interface Handler {
    void onEvent(String event, String data);
  }

  private final int maxEventBytes;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
  private String event;
  private StringBuilder data;
  private int eventBytes;

  public SseParser(int maxEventBytes) {
    this.maxEventBytes = maxEventBytes;
  }

  /**
   * Consumes all readable bytes of {@code buf} without releasing it.
   *
   * @throws IllegalStateException when one event is larger than the limit
   */
  public void feed(ByteBuf buf, Handler handler) {
    int end = buf.writerIndex();
    for (int i = buf.readerIndex(); i < end; i++) {
      byte b = buf.getByte(i);
      if (b == '\n') {
        endOfLine(handler);
      } else {
        line.write(b);
        if (++eventBytes > maxEventBytes) {
          throw new IllegalStateException(
              "an event of the provider's stream exceeds " + maxEventBytes + " bytes");
        }
      }
    }
    buf.readerIndex(end);
  }

  /** Dispatches an event the stream ended without a blank line after. */
  public void finish(Handler handler) {
    if (line.size() > 0) {
      endOfLine(handler);
    }
    dispatch(handler);
  }

  private void endOfLine(Handler handler) {
    byte[] bytes = line.toByteArray();
    int len = bytes.length;
    if (len > 0 && bytes[len - 1] == '\r') {
      len--;
    }
    line.reset();
    if (len == 0) {
      dispatch(handler);
      return;
    }
    String text = new String(bytes, 0, len, StandardCharsets.UTF_8);
    int colon = text.indexOf(':');
    String field = colon < 0 ? text : text.substring(0, colon);
    String value = colon < 0 ? "" : text.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "event" -> event = value;
      case "data" -> {
        if (data == null) {
          data = new StringBuilder(value);
        } else {
          data.append('\n').append(value);
        }
      }
      default -> {
        // comments (":" lines), id and retry fields carry nothing the proxy needs
      }
    }
  }

  private void dispatch(Handler handler) {
    if (data != null) {
      String e = event;
      String d = data.toString();
      event = null;
      data = null;
      eventBytes = 0;
      handler.onEvent(e, d);
    } else {
      event = null;
      eventBytes = 0;
    }
  }
}
