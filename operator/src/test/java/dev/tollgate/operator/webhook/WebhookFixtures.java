package dev.tollgate.operator.webhook;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import java.util.Map;
import java.util.Set;

/** Pods, settings and AdmissionReviews shared by the webhook tests. */
final class WebhookFixtures {
  static final InjectionSettings SETTINGS =
      new InjectionSettings(
          "ghcr.io/tollgate/tollgate-sidecar:0.1.0",
          null,
          4000,
          4001,
          "tollgate-sidecar-config",
          "https://tollgate-operator.tollgate-system.svc:8443/v1/reports",
          null,
          null,
          null,
          Set.of("kube-system", "tollgate-system"));

  private WebhookFixtures() {}

  static Pod pod(Map<String, String> annotations) {
    return new PodBuilder()
        .withNewMetadata()
        .withGenerateName("support-bot-")
        .withNamespace("support")
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("bot")
        .withImage("python:3.12-slim")
        .addNewEnv()
        .withName("LLM_MODEL")
        .withValue("support-chat")
        .endEnv()
        .endContainer()
        .endSpec()
        .build();
  }

  static AdmissionReview review(Pod pod, String namespace) {
    return new AdmissionReviewBuilder()
        .withApiVersion("admission.k8s.io/v1")
        .withKind("AdmissionReview")
        .withNewRequest()
        .withUid("0d7e2b4e-1111-4b6f-9a3c-1234567890ab")
        .withNewKind("", "Pod", "v1")
        .withNewResource("", "pods", "v1")
        .withNamespace(namespace)
        .withOperation("CREATE")
        .withUserInfo(
            new UserInfo(
                null, null, null, "system:serviceaccount:kube-system:replicaset-controller"))
        .withObject(pod)
        .endRequest()
        .build();
  }

  /** A namespace view with fixed answers. */
  record FixedView(Map<String, String> labels, Set<String> secrets) implements NamespaceView {
    @Override
    public Map<String, String> labels(String namespace) {
      return labels;
    }

    @Override
    public Set<String> referencedSecrets(String namespace) {
      return secrets;
    }
  }
}
