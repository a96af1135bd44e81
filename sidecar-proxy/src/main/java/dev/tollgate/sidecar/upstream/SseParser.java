package dev.tollgate.sidecar.upstream;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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

  private static final byte[] DATA = "data".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EVENT = "event".getBytes(StandardCharsets.US_ASCII);

  private final int maxEventBytes;
  private byte[] line = new byte[256];
  private int lineLength;
  private String event;
  private String data;
  private StringBuilder moreData;
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
    int i = buf.readerIndex();
    while (i < end) {
      int newline = buf.indexOf(i, end, (byte) '\n');
      int stop = newline < 0 ? end : newline;
      int n = stop - i;
      if (n > maxEventBytes - eventBytes) {
        throw new IllegalStateException(
            "an event of the provider's stream exceeds " + maxEventBytes + " bytes");
      }
      eventBytes += n;
      append(buf, i, n);
      if (newline < 0) {
        i = end;
      } else {
        endOfLine(handler);
        i = newline + 1;
      }
    }
    buf.readerIndex(end);
  }

  /** Dispatches an event the stream ended without a blank line after. */
  public void finish(Handler handler) {
    if (lineLength > 0) {
      endOfLine(handler);
    }
    dispatch(handler);
  }

  private void append(ByteBuf buf, int index, int n) {
    if (n == 0) {
      return;
    }
    if (lineLength + n > line.length) {
      line = Arrays.copyOf(line, Math.max(lineLength + n, line.length * 2));
    }
    buf.getBytes(index, line, lineLength, n);
    lineLength += n;
  }

  private void endOfLine(Handler handler) {
    int len = lineLength;
    if (len > 0 && line[len - 1] == '\r') {
      len--;
    }
    lineLength = 0;
    if (len == 0) {
      dispatch(handler);
      return;
    }
    // the field name is ASCII: compared on bytes, and only a value the proxy reads is decoded
    int colon = 0;
    while (colon < len && line[colon] != ':') {
      colon++;
    }
    int from = colon + 1;
    if (from < len && line[from] == ' ') {
      from++;
    }
    from = Math.min(from, len);
    if (isField(DATA, colon)) {
      String value = new String(line, from, len - from, StandardCharsets.UTF_8);
      if (data == null) {
        data = value;
      } else {
        if (moreData == null) {
          moreData = new StringBuilder(data);
        }
        moreData.append('\n').append(value);
      }
    } else if (isField(EVENT, colon)) {
      event = new String(line, from, len - from, StandardCharsets.UTF_8);
    }
    // comments (":" lines), id and retry fields carry nothing the proxy needs
  }

  private boolean isField(byte[] name, int length) {
    return length == name.length && Arrays.equals(line, 0, length, name, 0, length);
  }

  private void dispatch(Handler handler) {
    if (data != null) {
      String e = event;
      String d = moreData != null ? moreData.toString() : data;
      event = null;
      data = null;
      moreData = null;
      eventBytes = 0;
      handler.onEvent(e, d);
    } else {
      event = null;
      eventBytes = 0;
    }
  }
}
