package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.upstream.UpstreamBrokenException;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;

/**
 * Classifies what went wrong with a provider: its HTTP status, or a transport failure, as the error
 * kind the retry policy and the caller see, with a message naming the provider and the credential.
 */
final class UpstreamErrors {
  private UpstreamErrors() {}

  /**
   * A non-200 answer.
   *
   * @param said the provider's own error message, or null
   * @param retryAfter its Retry-After header, or null
   */
  static ProxyException ofStatus(
      int status, CredentialConfig credential, String said, String retryAfter) {
    String why = said == null ? "" : ": " + said;
    String who =
        "provider " + credential.provider().wireName() + " (credential " + credential.name() + ")";
    int s = status;
    if (s == 429) {
      return new ProxyException(
          ErrorKind.UPSTREAM_RATE_LIMITED, 429, who + " is rate limiting" + why, retryAfter);
    } else if (s == 401 || s == 403) {
      return new ProxyException(
          ErrorKind.UPSTREAM_AUTH,
          who + " rejected the sidecar's API key (HTTP " + s + "); check the credential's Secret");
    } else if (s == 503 || s == 529) {
      return new ProxyException(
          ErrorKind.UPSTREAM_OVERLOADED,
          503,
          who + " is overloaded (HTTP " + s + ")" + why,
          retryAfter);
    } else if (s >= 400 && s < 500) {
      return new ProxyException(
          ErrorKind.UPSTREAM_REJECTED,
          s == 404 || s == 413 || s == 422 ? s : 400,
          who + " rejected the request (HTTP " + s + ")" + why,
          null);
    }
    return new ProxyException(ErrorKind.UPSTREAM_ERROR, who + " failed (HTTP " + s + ")" + why);
  }

  /** The connection failed, or broke while the answer was arriving. */
  static ProxyException ofTransport(Throwable cause, boolean stream, CredentialConfig credential) {
    if (cause instanceof UpstreamBrokenException) {
      return new ProxyException(
          stream ? ErrorKind.UPSTREAM_STREAM_BROKEN : ErrorKind.UPSTREAM_BAD_RESPONSE,
          cause.getMessage() + " (" + credential.provider().wireName() + ")");
    }
    return new ProxyException(
        ErrorKind.UPSTREAM_CONNECT,
        "cannot reach provider "
            + credential.provider().wireName()
            + " of credential "
            + credential.name()
            + ": "
            + cause.getMessage());
  }
}
