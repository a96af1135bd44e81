package dev.tollgate.sidecar.upstream;

/** No usable connection to the provider: refused, reset before answering, or timed out. */
public class UpstreamConnectException extends RuntimeException {
  public UpstreamConnectException(String message) {
    super(message, null, false, false);
  }
}
