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
   * Who sent a report: a ServiceAccount token bound to a pod.
   *
   * @param namespace the namespace of the token's ServiceAccount, the only one it may report for
   * @param serviceAccount its name
   * @param podName the pod the token is bound to; reports must name it
   * @param podUid the UID of that pod; reports must carry it. Null only from reviewers that cannot
   *     know it (test fakes); {@link KubernetesTokenReviewer} accepts no token without it
   */
  record Identity(String namespace, String serviceAccount, String podName, String podUid) {
    public Identity {
      if (namespace == null || serviceAccount == null || podName == null) {
        throw new IllegalArgumentException(
            "an identity needs a namespace, a ServiceAccount and a pod");
      }
    }

    /** The reporter as a rate-limit key: the pod, by UID when known. */
    String reporter() {
      return namespace + "/" + podName + "/" + (podUid == null ? "" : podUid);
    }
  }
}
