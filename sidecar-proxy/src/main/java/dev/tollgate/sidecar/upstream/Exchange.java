package dev.tollgate.sidecar.upstream;

/** A running upstream request: ask for more of the response, or abandon it. */
public interface Exchange {
  /** Read the next piece of the response (the upstream channel does not auto-read). */
  void read();

  /** Abandon the exchange and close its connection (it cannot be reused mid-response). */
  void abort();
}
