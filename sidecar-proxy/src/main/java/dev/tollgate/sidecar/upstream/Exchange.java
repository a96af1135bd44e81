package dev.tollgate.sidecar.upstream;

import io.netty.handler.codec.http.HttpContent;

/** A running upstream request: pause or resume reading its response, or abandon it. */
public interface Exchange {
  /** Stop reading the response (the caller's connection is full). */
  void pause();

  /** Read the response again. */
  void resume();

  /** Abandon the exchange and close its connection (it cannot be reused mid-response). */
  void abort();

  /**
   * Sends the next piece of a streamed request body (a request sent as a head alone); the last
   * piece is a {@code LastHttpContent}. Pieces given before the connection is ready wait for it.
   * The exchange takes ownership of {@code piece}.
   */
  default void writeBody(HttpContent piece) {
    piece.release();
    throw new UnsupportedOperationException("this exchange does not stream a request body");
  }

  /**
   * Whether the provider's connection takes more of a streamed request body now; when it does not,
   * the sender stops reading its source until {@link ExchangeListener#onUpstreamWritable()}.
   */
  default boolean bodyWritable() {
    return true;
  }
}
