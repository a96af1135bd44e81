package dev.tollgate.operator.report;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Verifies tokens with the API server's TokenReview (RBAC: {@code tokenreviews create}). */
public final class KubernetesTokenReviewer implements TokenReviewer {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesTokenReviewer.class);
  private static final String SA_PREFIX = "system:serviceaccount:";
  private static final String POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name";

  private final KubernetesClient client;

  public KubernetesTokenReviewer(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Optional<Identity> review(String token) {
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
    if (answer.getStatus() == null
        || !Boolean.TRUE.equals(answer.getStatus().getAuthenticated())
        || answer.getStatus().getUser() == null) {
      return Optional.empty();
    }
    List<String> audiences = answer.getStatus().getAudiences();
    if (audiences != null && !audiences.isEmpty() && !audiences.contains(AUDIENCE)) {
      return Optional.empty();
    }
    return identity(answer.getStatus().getUser());
  }

  /** A ServiceAccount user is {@code system:serviceaccount:<namespace>:<name>}. */
  static Optional<Identity> identity(UserInfo user) {
    String name = user.getUsername();
    if (name == null || !name.startsWith(SA_PREFIX)) {
      return Optional.empty();
    }
    String[] parts = name.substring(SA_PREFIX.length()).split(":", 2);
    if (parts.length != 2) {
      return Optional.empty();
    }
    String pod = null;
    if (user.getExtra() != null && user.getExtra().get(POD_NAME_EXTRA) != null) {
      List<String> pods = user.getExtra().get(POD_NAME_EXTRA);
      pod = pods.isEmpty() ? null : pods.get(0);
    }
    return Optional.of(new Identity(parts[0], parts[1], pod));
  }
}
