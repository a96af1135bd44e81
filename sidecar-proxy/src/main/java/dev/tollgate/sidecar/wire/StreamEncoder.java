package dev.tollgate.sidecar.wire;

import dev.tollgate.sidecar.chat.StreamEvent;

/** Writes neutral stream events as one caller format's SSE text. */
public interface StreamEncoder {
  /** SSE text for {@code event}, possibly empty. */
  String encode(StreamEvent event);

  /** A well-formed error event that ends the stream. */
  String error(ErrorKind kind, String message);
}
