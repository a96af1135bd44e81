package dev.tollgate.local;

import dev.tollgate.operator.report.TokenReviewer;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Local mode only: the embedded mock API server has no TokenReview, so this reviewer issues each
 * in-process sidecar a random token bound to its pod name and UID, as a projected token is bound to
 * its pod in a cluster. Local mode says so in its output; a cluster always verifies tokens with
 * {@code KubernetesTokenReviewer}.
 */
final class LocalTokenReviewer implements TokenReviewer {
  private final SecureRandom random = new SecureRandom();
  private final String namespace;
  private final Map<String, Identity> issued = new ConcurrentHashMap<>();

  LocalTokenReviewer(String namespace) {
    this.namespace = namespace;
  }

  /** A new token for the sidecar of pod {@code pod} with UID {@code uid}. */
  String token(String pod, String uid) {
    byte[] bytes = new byte[24];
    random.nextBytes(bytes);
    String token = "local-" + HexFormat.of().formatHex(bytes);
    issued.put(token, new Identity(namespace, "default", pod, uid));
    return token;
  }

  @Override
  public Optional<Identity> review(String presented) {
    return Optional.ofNullable(presented == null ? null : issued.get(presented));
  }
}
