package dev.tollgate.sidecar.provider;

import io.netty.buffer.ByteBuf;

/**
 * Cuts a streamed answer's body into the provider's events as bytes arrive, in any split: each
 * event goes to the sink as its name (may be null) and its payload text.
 */
public interface StreamFraming {
  /** Receives one event. */
  interface Sink {
    void onEvent(String event, String data);
  }

  /** Consumes the readable bytes of {@code content} (without releasing it). */
  void feed(ByteBuf content, Sink sink);

  /** The body ended: hands over an event still pending, if the framing keeps one. */
  default void finish(Sink sink) {}
}
