package dev.tollgate.operator.webhook;

import static dev.tollgate.operator.webhook.WebhookFixtures.SETTINGS;
import static dev.tollgate.operator.webhook.WebhookFixtures.pod;
import static dev.tollgate.operator.webhook.WebhookFixtures.review;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonPatch;
import io.javaoperatorsdk.webhook.admission.AdmissionController;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** AdmissionReview in, JSON patch out; the patch is applied to the pod and the result checked. */
class PodInjectionHandlerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<String> decisions = new ArrayList<>();

  @Test
  void optedInPodGetsAPatchThatAddsTheSidecar() throws Exception {
    Pod pod = pod(Map.of("tollgate.dev/inject", "true"));

    AdmissionReview answer =
        controller(Map.of(), Set.of("openai-api-key")).handle(review(pod, "support"));

    AdmissionResponse response = answer.getResponse();
    assertThat(response.getUid()).isEqualTo("0d7e2b4e-1111-4b6f-9a3c-1234567890ab");
    assertThat(response.getAllowed()).isTrue();
    assertThat(response.getPatchType()).isEqualTo("JSONPatch");
    Pod patched = apply(pod, response);
    assertThat(patched.getSpec().getInitContainers())
        .singleElement()
        .satisfies(c -> assertThat(c.getName()).isEqualTo("tollgate-sidecar"))
        .satisfies(c -> assertThat(c.getRestartPolicy()).isEqualTo("Always"));
    assertThat(patched.getSpec().getVolumes())
        .extracting(v -> v.getName())
        .containsExactly(
            "tollgate-config",
            "tollgate-token",
            "tollgate-report-ca",
            "tollgate-spool",
            dev.tollgate.sidecar.config.SecretMounts.volumeName("openai-api-key"));
    assertThat(patched.getSpec().getContainers().get(0).getEnv())
        .anySatisfy(e -> assertThat(e.getName()).isEqualTo("OPENAI_BASE_URL"));
    assertThat(decisions).containsExactly("INJECT support");
  }

  @Test
  void namespaceLabelOptsEveryPodIn() throws Exception {
    AdmissionResponse response =
        controller(Map.of("tollgate.dev/injection", "enabled"), Set.of())
            .handle(review(pod(Map.of()), "support"))
            .getResponse();

    assertThat(apply(pod(Map.of()), response).getSpec().getInitContainers()).hasSize(1);
  }

  @Test
  void podsThatAreNotInjectedAreAdmittedWithoutAPatch() {
    Map<String, AdmissionReview> cases =
        Map.of(
            "opted out",
            review(pod(Map.of("tollgate.dev/inject", "false")), "support"),
            "kube-system",
            review(pod(Map.of("tollgate.dev/inject", "true")), "kube-system"),
            "not opted in",
            review(pod(Map.of()), "other"));

    cases.forEach(
        (name, review) -> {
          AdmissionResponse response = controller(Map.of(), Set.of()).handle(review).getResponse();
          assertThat(response.getAllowed()).as(name).isTrue();
          assertThat(response.getPatch()).as(name).isNull();
        });
  }

  @Test
  void anAlreadyInjectedPodIsLeftAsItIs() throws Exception {
    Pod pod = pod(Map.of("tollgate.dev/inject", "true"));
    Pod once =
        apply(pod, controller(Map.of(), Set.of("k")).handle(review(pod, "support")).getResponse());

    AdmissionResponse second =
        controller(Map.of(), Set.of("k")).handle(review(once, "support")).getResponse();

    assertThat(second.getAllowed()).isTrue();
    assertThat(second.getPatch()).isNull();
  }

  @Test
  void aFailingLookupAdmitsThePodUnchangedWithAWarning() {
    NamespaceView broken =
        new NamespaceView() {
          @Override
          public Map<String, String> labels(String namespace) {
            throw new IllegalStateException("API server unreachable");
          }

          @Override
          public Set<String> referencedSecrets(String namespace) {
            return Set.of();
          }
        };
    AdmissionController<Pod> controller =
        new AdmissionController<>(
            new PodInjectionHandler(new SidecarInjector(SETTINGS), broken, (d, ns) -> {}));

    AdmissionResponse response =
        controller
            .handle(review(pod(Map.of("tollgate.dev/inject", "true")), "support"))
            .getResponse();

    assertThat(response.getAllowed()).isTrue();
    assertThat(response.getPatch()).isNull();
    assertThat(response.getWarnings()).singleElement().asString().contains("sidecar not injected");
  }

  /**
   * Anyone who reaches the webhook port can send an AdmissionReview (issue #16): the answer names
   * the Secrets of one namespace only, the one the review is about, and only when the pod claims no
   * other; a review without a namespace reveals nothing.
   */
  @Test
  void aReviewRevealsOnlyTheSecretsOfTheNamespaceItIsAbout() throws Exception {
    NamespaceView view =
        new NamespaceView() {
          @Override
          public Map<String, String> labels(String namespace) {
            return Map.of("tollgate.dev/injection", "enabled");
          }

          @Override
          public Set<String> referencedSecrets(String namespace) {
            return Set.of(namespace + "-api-key");
          }
        };
    AdmissionController<Pod> controller =
        new AdmissionController<>(
            new PodInjectionHandler(new SidecarInjector(SETTINGS), view, (d, ns) -> {}));
    Pod inSupport = pod(Map.of()); // metadata.namespace: support

    // the pod says support, the review says billing: neither namespace's Secrets are named
    AdmissionResponse mismatch = controller.handle(review(inSupport, "billing")).getResponse();
    assertThat(mismatch.getAllowed()).isTrue();
    assertThat(mismatch.getPatch()).isNull();

    // no namespace in the review: the pod's own claim is not enough
    AdmissionResponse none = controller.handle(review(inSupport, null)).getResponse();
    assertThat(none.getAllowed()).isTrue();
    assertThat(none.getPatch()).isNull();

    // a pod without a namespace (as the API server may send it) in a review for billing: billing's
    Pod anonymous = pod(Map.of());
    anonymous.getMetadata().setNamespace(null);
    AdmissionResponse billing = controller.handle(review(anonymous, "billing")).getResponse();
    String patch =
        new String(Base64.getDecoder().decode(billing.getPatch()), StandardCharsets.UTF_8);
    assertThat(patch).contains("billing-api-key").doesNotContain("support-api-key");
  }

  @Test
  void onlyPodCreationsAreAnswered() {
    AdmissionReview notAPod = review(pod(Map.of("tollgate.dev/inject", "true")), "support");
    notAPod
        .getRequest()
        .setKind(new io.fabric8.kubernetes.api.model.GroupVersionKind("", "Secret", "v1"));
    AdmissionResponse response =
        controller(Map.of(), Set.of("openai-api-key")).handle(notAPod).getResponse();
    assertThat(response.getAllowed()).isTrue();
    assertThat(response.getPatch()).isNull();
  }

  private AdmissionController<Pod> controller(Map<String, String> labels, Set<String> secrets) {
    return new AdmissionController<>(
        new PodInjectionHandler(
            new SidecarInjector(SETTINGS),
            new WebhookFixtures.FixedView(labels, secrets),
            (decision, ns) -> decisions.add(decision + " " + ns)));
  }

  private static Pod apply(Pod original, AdmissionResponse response) throws Exception {
    JsonNode patch =
        JSON.readTree(
            new String(Base64.getDecoder().decode(response.getPatch()), StandardCharsets.UTF_8));
    JsonNode patched = JsonPatch.apply(patch, JSON.readTree(Serialization.asJson(original)));
    return Serialization.unmarshal(patched.toString(), Pod.class);
  }
}
