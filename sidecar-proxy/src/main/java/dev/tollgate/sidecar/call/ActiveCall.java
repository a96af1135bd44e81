package dev.tollgate.sidecar.call;

/** A call in progress on a caller connection: what the connection tells it. */
public interface ActiveCall {
  /** The caller's connection drained: resume reading the provider. */
  void onWritable();

  /** The caller went away. */
  void onClientClosed();
}
