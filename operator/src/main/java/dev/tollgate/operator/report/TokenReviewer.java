package dev.tollgate.operator.report;

import java.util.Optional;

/**
 * Checks a pod's projected ServiceAccount token (audience {@code tollgate}) and says whose it is.
 * Behind an interface so tests can run without an API server that implements TokenReview.
 */
public interface TokenReviewer {
  /** The audience the sidecar's projected token is issued for. */
  String AUDIENCE = "tollgate";

  /**
   * The identity behind {@code token}, or empty if the token is not valid for {@link #AUDIENCE}.
   */
  Optional<Identity> review(String token);

  /**
   * Who sent a report.
   *
   * @param namespace the namespace of the token's ServiceAccount, the only one it may report for
   * @param serviceAccount its name
   * @param podName the pod the token was bound to, if the API server says
   */
  record Identity(String namespace, String serviceAccount, String podName) {}
}
