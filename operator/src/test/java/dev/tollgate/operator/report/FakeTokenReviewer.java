package dev.tollgate.operator.report;

import java.util.Optional;

/**
 * Stands in for the API server's TokenReview (the mock server has none): a token {@code
 * valid:<namespace>:<pod>} belongs to ServiceAccount default of that namespace, bound to that pod.
 */
final class FakeTokenReviewer implements TokenReviewer {
  @Override
  public Optional<Identity> review(String token) {
    String[] parts = token.split(":");
    if (parts.length != 3 || !parts[0].equals("valid")) {
      return Optional.empty();
    }
    return Optional.of(new Identity(parts[1], "default", parts[2]));
  }

  static String token(String namespace, String pod) {
    return "valid:" + namespace + ":" + pod;
  }
}
