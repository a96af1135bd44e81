package dev.tollgate.sidecar.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;

/** Receives one upstream exchange's response, on the event loop of the caller's channel. */
public interface ExchangeListener {
  void onHead(HttpResponse head);

  /**
   * A piece of the body; {@code content} is released by the caller after this returns. The listener
   * calls {@link Exchange#pause()} while it cannot pass more on (backpressure).
   */
  void onContent(ByteBuf content, boolean last);

  /** The exchange failed; {@code afterHead} tells whether {@link #onHead} was already called. */
  void onFailure(Throwable cause, boolean afterHead);

  /**
   * The provider's connection takes a streamed request body again ({@link Exchange#bodyWritable}).
   */
  default void onUpstreamWritable() {}
}
