package dev.tollgate.sidecar.wire;

/**
 * Everything that can go wrong with a call, with the HTTP status and the error types each caller
 * format uses for it. Also the {@code kind} label of the errors metric.
 */
public enum ErrorKind {
  INVALID_REQUEST(400, "invalid_request_error", "invalid_request_error"),
  UNKNOWN_ROUTE(404, "invalid_request_error", "not_found_error"),
  NOT_FOUND(404, "invalid_request_error", "not_found_error"),
  /** A passthrough path the namespace's configuration does not allow. */
  FORBIDDEN(403, "permission_error", "permission_error"),
  METHOD_NOT_ALLOWED(405, "invalid_request_error", "invalid_request_error"),
  CLIENT_TIMEOUT(408, "invalid_request_error", "invalid_request_error"),
  /** A request body that is not JSON (a browser's cross-origin "simple" POST is text/plain). */
  UNSUPPORTED_MEDIA_TYPE(415, "invalid_request_error", "invalid_request_error"),
  /** A request from a web page of another origin (the sidecar serves the pod's own processes). */
  FORBIDDEN_ORIGIN(403, "invalid_request_error", "permission_error"),
  TOO_LARGE(413, "invalid_request_error", "request_too_large"),
  UPSTREAM_REJECTED(400, "invalid_request_error", "invalid_request_error"),
  UPSTREAM_RATE_LIMITED(429, "rate_limit_error", "rate_limit_error"),
  /** The route's, caller's or credential's limit in this sidecar (not the provider's). */
  RATE_LIMITED(429, "rate_limit_error", "rate_limit_error"),
  UPSTREAM_AUTH(502, "api_error", "api_error"),
  UPSTREAM_ERROR(502, "api_error", "api_error"),
  UPSTREAM_OVERLOADED(503, "api_error", "overloaded_error"),
  UPSTREAM_CONNECT(502, "api_error", "api_error"),
  UPSTREAM_TIMEOUT(504, "timeout_error", "timeout_error"),
  UPSTREAM_BAD_RESPONSE(502, "api_error", "api_error"),
  UPSTREAM_STREAM_BROKEN(502, "api_error", "api_error"),
  MISSING_CREDENTIAL(503, "api_error", "api_error"),
  NOT_READY(503, "api_error", "overloaded_error"),
  /** The sidecar's memory for request bodies in flight is taken: try again shortly. */
  OVERLOADED(503, "api_error", "overloaded_error"),
  CLIENT_CLOSED(499, "api_error", "api_error"),
  /** The route's Budget is spent and says Block: 429 as OpenAI answers an exhausted quota. */
  BUDGET_EXCEEDED(429, "insufficient_quota", "rate_limit_error"),
  INTERNAL(500, "api_error", "api_error");

  private final int status;
  private final String openAiType;
  private final String anthropicType;

  ErrorKind(int status, String openAiType, String anthropicType) {
    this.status = status;
    this.openAiType = openAiType;
    this.anthropicType = anthropicType;
  }

  public int status() {
    return status;
  }

  public String openAiType() {
    return openAiType;
  }

  public String anthropicType() {
    return anthropicType;
  }

  /** Metric label and OpenAI {@code code}: lower snake case. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
