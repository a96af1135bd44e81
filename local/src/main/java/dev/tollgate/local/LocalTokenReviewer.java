package dev.tollgate.local;

import dev.tollgate.operator.report.TokenReviewer;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Local mode only: the embedded mock API server has no TokenReview, so this run's sidecars share
 * one random token that this reviewer maps to the example's namespace. Local mode says so in its
 * output; a cluster always verifies tokens with {@code KubernetesTokenReviewer}.
 */
final class LocalTokenReviewer implements TokenReviewer {
  private final String token;
  private final String namespace;

  LocalTokenReviewer(String namespace) {
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    this.token = "local-" + HexFormat.of().formatHex(random);
    this.namespace = namespace;
  }

  String token() {
    return token;
  }

  @Override
  public Optional<Identity> review(String presented) {
    return token.equals(presented)
        ? Optional.of(new Identity(namespace, "default", null))
        : Optional.empty();
  }
}
