package dev.tollgate.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The webhook names the workload of a pod it injects, from AdmissionReviews shaped as the API
 * server sends them: a Deployment's pod arrives without a name, with {@code generateName}, the
 * {@code pod-template-hash} label and a controller reference to its ReplicaSet, whose own
 * controller reference names the Deployment.
 */
@EnableKubernetesMockClient(crud = true)
class WorkloadAdmissionIT {
  KubernetesClient client;

  @BeforeEach
  void namespace() {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName("shop")
                .addToLabels("tollgate.dev/injection", "enabled")
                .endMetadata()
                .build())
        .create();
  }

  private static Pod pod(String generateName, String ownerKind, String ownerName, String hash) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withGenerateName(generateName)
            .withNamespace("shop")
            .addToLabels("app", "checkout")
            .addToOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion(ownerKind.equals("Job") ? "batch/v1" : "apps/v1")
                    .withKind(ownerKind)
                    .withName(ownerName)
                    .withUid("5e3c7a12-0000-4000-8000-00000000000a")
                    .withController(true)
                    .withBlockOwnerDeletion(true)
                    .build())
            .endMetadata()
            .withNewSpec()
            .withServiceAccountName("checkout-sa")
            .addNewContainer()
            .withName("app")
            .withImage("python:3.12-slim")
            .endContainer()
            .endSpec();
    if (hash != null) {
      b.editMetadata().addToLabels("pod-template-hash", hash).endMetadata();
    }
    return b.build();
  }

  private String patch(Pod pod) {
    PodInjectionHandler handler =
        new PodInjectionHandler(
            new SidecarInjector(WebhookFixtures.SETTINGS),
            new KubernetesNamespaceView(client, "tollgate-sidecar-config"),
            (d, ns) -> {});
    AdmissionResponse response = handler.handle(WebhookFixtures.review(pod, "shop").getRequest());
    assertThat(response.getAllowed()).isTrue();
    assertThat(response.getPatch()).as("injected").isNotNull();
    return new String(Base64.getDecoder().decode(response.getPatch()), StandardCharsets.UTF_8);
  }

  private static String env(String name, String value) {
    return "{\"name\":\"" + name + "\",\"value\":\"" + value + "\"}";
  }

  @Test
  void aDeploymentsPodIsAttributedToTheDeploymentReadThroughItsReplicaSet() {
    client
        .apps()
        .replicaSets()
        .inNamespace("shop")
        .resource(
            new ReplicaSetBuilder()
                .withNewMetadata()
                .withName("checkout-7d9f8b6c5d")
                .addToLabels("pod-template-hash", "7d9f8b6c5d")
                .addToOwnerReferences(
                    new OwnerReferenceBuilder()
                        .withApiVersion("apps/v1")
                        .withKind("Deployment")
                        .withName("checkout")
                        .withUid("5e3c7a12-0000-4000-8000-000000000001")
                        .withController(true)
                        .build())
                .endMetadata()
                .withNewSpec()
                .withNewSelector()
                .addToMatchLabels("pod-template-hash", "7d9f8b6c5d")
                .endSelector()
                .endSpec()
                .build())
        .create();
    String patch =
        patch(pod("checkout-7d9f8b6c5d-", "ReplicaSet", "checkout-7d9f8b6c5d", "7d9f8b6c5d"));
    assertThat(patch)
        .contains(env("TOLLGATE_WORKLOAD_KIND", "Deployment"))
        .contains(env("TOLLGATE_WORKLOAD_NAME", "checkout"))
        .contains(env("TOLLGATE_WORKLOAD_SOURCE", "api"))
        .contains("\"tollgate.dev/workload\":\"Deployment/checkout\"")
        .contains("\"fieldPath\":\"spec.serviceAccountName\"");
  }

  @Test
  void whenTheReplicaSetCannotBeReadTheNamingConventionStandsInAndSaysSo() {
    // no ReplicaSet in the API (not found, forbidden or slow: the same fallback)
    String patch =
        patch(pod("checkout-7d9f8b6c5d-", "ReplicaSet", "checkout-7d9f8b6c5d", "7d9f8b6c5d"));
    assertThat(patch)
        .contains(env("TOLLGATE_WORKLOAD_KIND", "Deployment"))
        .contains(env("TOLLGATE_WORKLOAD_NAME", "checkout"))
        .contains(env("TOLLGATE_WORKLOAD_SOURCE", "naming"))
        .contains("\"tollgate.dev/workload-source\":\"naming\"");
  }

  @Test
  void aCronJobsPodIsAttributedToTheCronJobThroughItsJob() {
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace("shop")
        .resource(
            new JobBuilder()
                .withNewMetadata()
                .withName("nightly-report-29012345")
                .addToOwnerReferences(
                    new OwnerReferenceBuilder()
                        .withApiVersion("batch/v1")
                        .withKind("CronJob")
                        .withName("nightly-report")
                        .withUid("5e3c7a12-0000-4000-8000-000000000002")
                        .withController(true)
                        .build())
                .endMetadata()
                .withNewSpec()
                .withNewTemplate()
                .endTemplate()
                .endSpec()
                .build())
        .create();
    String patch = patch(pod("nightly-report-29012345-", "Job", "nightly-report-29012345", null));
    assertThat(patch)
        .contains(env("TOLLGATE_WORKLOAD_KIND", "CronJob"))
        .contains(env("TOLLGATE_WORKLOAD_NAME", "nightly-report"))
        .contains(env("TOLLGATE_WORKLOAD_SOURCE", "api"));
  }

  @Test
  void aStatefulSetsPodNamesItsOwnerDirectly() {
    String patch = patch(pod("ledger-", "StatefulSet", "ledger", null));
    assertThat(patch)
        .contains(env("TOLLGATE_WORKLOAD_KIND", "StatefulSet"))
        .contains(env("TOLLGATE_WORKLOAD_NAME", "ledger"))
        .contains(env("TOLLGATE_WORKLOAD_SOURCE", "ownerReference"));
  }
}
