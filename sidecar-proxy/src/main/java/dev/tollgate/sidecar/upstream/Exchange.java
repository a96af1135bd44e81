package dev.tollgate.sidecar.upstream;

/** A running upstream request: pause or resume reading its response, or abandon it. */
public interface Exchange {
  /** Stop reading the response (the caller's connection is full). */
  void pause();

  /** Read the response again. */
  void resume();

  /** Abandon the exchange and close its connection (it cannot be reused mid-response). */
  void abort();
}
