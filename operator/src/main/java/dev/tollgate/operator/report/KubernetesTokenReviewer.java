package dev.tollgate.operator.report;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies tokens with the API server's TokenReview (RBAC: {@code tokenreviews create}). Accepts
 * only what an injected sidecar holds: a ServiceAccount token for the {@code tollgate} audience
 * (the API server must say so in {@code status.audiences}: an empty list there means the token is
 * valid for the API server's own audience, i.e. it is a token for the Kubernetes API, not for us),
 * bound to a pod (the API server puts the pod's name and UID into the user's extra). Text that is
 * not even shaped like a JWT is refused without a review.
 */
public final class KubernetesTokenReviewer implements TokenReviewer {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesTokenReviewer.class);
  private static final String SA_PREFIX = "system:serviceaccount:";
  static final String POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name";
  static final String POD_UID_EXTRA = "authentication.kubernetes.io/pod-uid";

  /** A compact JWS: three base64url parts. Projected tokens are around 1 KiB. */
  private static final Pattern JWT =
      Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");

  private static final int MAX_TOKEN_CHARS = 16 * 1024;

  private final KubernetesClient client;

  public KubernetesTokenReviewer(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Optional<Identity> review(String token) {
    if (token == null || token.length() > MAX_TOKEN_CHARS || !JWT.matcher(token).matches()) {
      return Optional.empty();
    }
    TokenReview request =
        new TokenReviewBuilder()
            .withNewSpec()
            .withToken(token)
            .withAudiences(AUDIENCE)
            .endSpec()
            .build();
    TokenReview answer;
    try {
      answer = client.authentication().v1().tokenReviews().create(request);
    } catch (KubernetesClientException e) {
      // never log the token; the API server's message does not contain it
      LOG.warn("TokenReview failed: {}", e.getMessage());
      return Optional.empty();
    }
    return identity(answer);
  }

  /** The identity a TokenReview answer vouches for, or empty. */
  static Optional<Identity> identity(TokenReview answer) {
    if (answer == null
        || answer.getStatus() == null
        || !Boolean.TRUE.equals(answer.getStatus().getAuthenticated())
        || answer.getStatus().getUser() == null) {
      return Optional.empty();
    }
    List<String> audiences = answer.getStatus().getAudiences();
    if (audiences == null || !audiences.contains(AUDIENCE)) {
      LOG.debug("refused a token: the API server did not confirm audience {}", AUDIENCE);
      return Optional.empty();
    }
    return identity(answer.getStatus().getUser());
  }

  /**
   * A ServiceAccount user ({@code system:serviceaccount:<namespace>:<name>}) whose token is bound
   * to a pod, or empty.
   */
  static Optional<Identity> identity(UserInfo user) {
    String name = user.getUsername();
    if (name == null || !name.startsWith(SA_PREFIX)) {
      return Optional.empty();
    }
    String[] parts = name.substring(SA_PREFIX.length()).split(":", 2);
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
      return Optional.empty();
    }
    String pod = single(user.getExtra(), POD_NAME_EXTRA);
    String uid = single(user.getExtra(), POD_UID_EXTRA);
    if (pod == null || uid == null) {
      LOG.debug("refused a token of {}/{}: not bound to a pod", parts[0], parts[1]);
      return Optional.empty();
    }
    return Optional.of(new Identity(parts[0], parts[1], pod, uid));
  }

  private static String single(Map<String, List<String>> extra, String key) {
    if (extra == null || extra.get(key) == null || extra.get(key).size() != 1) {
      return null;
    }
    String value = extra.get(key).get(0);
    return value == null || value.isEmpty() ? null : value;
  }
}
