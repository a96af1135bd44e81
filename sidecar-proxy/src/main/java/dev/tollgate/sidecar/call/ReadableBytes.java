package dev.tollgate.sidecar.call;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/** Copies a buffer's readable bytes without moving its reader index. */
final class ReadableBytes {
  private ReadableBytes() {}

  static byte[] copy(ByteBuf buf) {
    return ByteBufUtil.getBytes(buf, buf.readerIndex(), buf.readableBytes(), false);
  }
}
