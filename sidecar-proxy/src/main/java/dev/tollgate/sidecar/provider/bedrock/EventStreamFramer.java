package dev.tollgate.sidecar.provider.bedrock;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.function.Consumer;
import software.amazon.eventstream.Message;

/**
 * Cuts an AWS event-stream body into messages as bytes arrive, in any split. Each message starts
 * with its total length; {@link Message#decode} then checks both CRCs and parses the headers.
 */
final class EventStreamFramer {
  private final int maxMessageBytes;
  private final ByteBuf pending = Unpooled.buffer(1024);

  EventStreamFramer(int maxMessageBytes) {
    this.maxMessageBytes = maxMessageBytes;
  }

  /**
   * Consumes the readable bytes of {@code buf} (without releasing it).
   *
   * @throws IllegalArgumentException or IllegalStateException for a malformed or oversized frame
   */
  void feed(ByteBuf buf, Consumer<Message> handler) {
    pending.writeBytes(buf, buf.readerIndex(), buf.readableBytes());
    buf.skipBytes(buf.readableBytes());
    while (pending.readableBytes() >= 4) {
      int total = pending.getInt(pending.readerIndex());
      if (total < 16 || total > maxMessageBytes) {
        throw new IllegalStateException("event-stream message of " + total + " bytes");
      }
      if (pending.readableBytes() < total) {
        break;
      }
      byte[] frame = new byte[total];
      pending.readBytes(frame);
      handler.accept(Message.decode(java.nio.ByteBuffer.wrap(frame)));
    }
    pending.discardReadBytes();
  }

  /** Whether bytes of an incomplete message are left over. */
  public boolean hasPartialMessage() {
    return pending.isReadable();
  }
}
