package dev.tollgate.sidecar.wire;

/**
 * The APIs applications call the sidecar with, by name; what each one means (parse, render, stream,
 * errors) is its {@code format.CallerFormat}.
 */
public enum ApiFormat {
  OPENAI,
  ANTHROPIC;

  /** The format a path belongs to, for errors before a request is understood. */
  public static ApiFormat forPath(String path) {
    return path.startsWith("/v1/messages") ? ANTHROPIC : OPENAI;
  }
}
