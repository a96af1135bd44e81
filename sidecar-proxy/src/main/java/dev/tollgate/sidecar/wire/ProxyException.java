package dev.tollgate.sidecar.wire;

/**
 * A failure to answer a call, with what the caller is told. The message must be safe to show: it
 * never holds secrets or prompt text.
 */
public class ProxyException extends RuntimeException {
  private final ErrorKind kind;
  private final int status;
  private final String retryAfter;

  public ProxyException(ErrorKind kind, String message) {
    this(kind, kind.status(), message, null);
  }

  /** With an explicit status (an upstream 4xx passed through) and optional Retry-After. */
  public ProxyException(ErrorKind kind, int status, String message, String retryAfter) {
    super(message, null, false, false);
    this.kind = kind;
    this.status = status;
    this.retryAfter = retryAfter;
  }

  public ErrorKind kind() {
    return kind;
  }

  public int status() {
    return status;
  }

  public String retryAfter() {
    return retryAfter;
  }
}
