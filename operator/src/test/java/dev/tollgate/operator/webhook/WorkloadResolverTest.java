package dev.tollgate.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WorkloadResolverTest {
  private static final WorkloadResolver.Owners FORBIDDEN =
      (ns, kind, name) -> {
        throw new IllegalStateException("403 Forbidden");
      };

  private static Pod owned(String kind, String name, String hash) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withGenerateName(name + "-")
            .addToOwnerReferences(
                new OwnerReferenceBuilder()
                    .withKind(kind)
                    .withName(name)
                    .withController(true)
                    .build())
            .endMetadata()
            .withNewSpec()
            .withServiceAccountName("sa")
            .endSpec();
    if (hash != null) {
      b.editMetadata().addToLabels("pod-template-hash", hash).endMetadata();
    }
    return b.build();
  }

  @Test
  void withoutApiAccessTheNamingConventionsStandIn() {
    assertThat(WorkloadResolver.resolve(owned("ReplicaSet", "web-5d8c9", "5d8c9"), "ns", FORBIDDEN))
        .isEqualTo(new UsageReport.Workload("Deployment", "web", "sa", "naming"));
    // a ReplicaSet whose name does not end in the hash is no Deployment's
    assertThat(WorkloadResolver.resolve(owned("ReplicaSet", "web-rs", "5d8c9"), "ns", FORBIDDEN))
        .isEqualTo(new UsageReport.Workload("ReplicaSet", "web-rs", "sa", "naming"));
    assertThat(WorkloadResolver.resolve(owned("Job", "backup-29012345", null), "ns", FORBIDDEN))
        .isEqualTo(new UsageReport.Workload("CronJob", "backup", "sa", "naming"));
    assertThat(WorkloadResolver.resolve(owned("Job", "migrate", null), "ns", FORBIDDEN))
        .isEqualTo(new UsageReport.Workload("Job", "migrate", "sa", "naming"));
  }

  @Test
  void ownersTollgateDoesNotNameAreNotGuessed() {
    // a standalone ReplicaSet, and one an Argo Rollout controls
    assertThat(
            WorkloadResolver.resolve(
                owned("ReplicaSet", "web-5d8c9", "5d8c9"), "ns", (ns, k, n) -> Optional.empty()))
        .isEqualTo(new UsageReport.Workload("ReplicaSet", "web-5d8c9", "sa", "api"));
    assertThat(
            WorkloadResolver.resolve(
                owned("ReplicaSet", "web-5d8c9", "5d8c9"),
                "ns",
                (ns, k, n) ->
                    Optional.of(
                        new OwnerReferenceBuilder().withKind("Rollout").withName("web").build())))
        .isEqualTo(new UsageReport.Workload("ReplicaSet", "web-5d8c9", "sa", "api"));
    assertThat(WorkloadResolver.resolve(owned("Rollout", "web", null), "ns", FORBIDDEN)).isNull();
    // a bare pod without a name yet (generateName only) has no workload to name
    Pod bare = new PodBuilder().withNewMetadata().withGenerateName("x-").endMetadata().build();
    assertThat(WorkloadResolver.resolve(bare, "ns", FORBIDDEN)).isNull();
  }
}
