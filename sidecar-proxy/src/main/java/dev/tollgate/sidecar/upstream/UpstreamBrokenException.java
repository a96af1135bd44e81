package dev.tollgate.sidecar.upstream;

/** The provider's response stopped in the middle (connection closed or reset). */
public class UpstreamBrokenException extends RuntimeException {
  public UpstreamBrokenException(String message) {
    super(message, null, false, false);
  }
}
