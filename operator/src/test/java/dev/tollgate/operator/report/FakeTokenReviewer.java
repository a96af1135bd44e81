package dev.tollgate.operator.report;

import java.util.Optional;

/**
 * Stands in for the API server's TokenReview (the mock server has none): a token {@code
 * valid:<namespace>:<pod>} belongs to ServiceAccount default of that namespace, bound to that pod
 * (its UID unknown, as the tests' sidecars pick random ones); {@code valid:<namespace>:<pod>:<uid>}
 * is bound to that pod and UID, as a projected token is.
 */
final class FakeTokenReviewer implements TokenReviewer {
  @Override
  public Optional<Identity> review(String token) {
    String[] parts = token.split(":");
    if ((parts.length != 3 && parts.length != 4) || !parts[0].equals("valid")) {
      return Optional.empty();
    }
    return Optional.of(
        new Identity(parts[1], "default", parts[2], parts.length == 4 ? parts[3] : null));
  }

  static String token(String namespace, String pod) {
    return "valid:" + namespace + ":" + pod;
  }

  static String token(String namespace, String pod, String uid) {
    return "valid:" + namespace + ":" + pod + ":" + uid;
  }
}
