package dev.tollgate.operator.webhook;

import static dev.tollgate.operator.webhook.WebhookFixtures.SETTINGS;
import static dev.tollgate.operator.webhook.WebhookFixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The sidecar gets the IRSA environment and token mount that EKS's webhook gave the app, and only
 * when a credential of the namespace uses the pod's identity.
 */
class CloudIdentityEnvTest {
  private final SidecarInjector injector = new SidecarInjector(SETTINGS);

  private static Pod irsaPod() {
    Pod pod = pod(Map.of("tollgate.dev/inject", "true"));
    Container app = pod.getSpec().getContainers().get(0);
    List<EnvVar> env = new ArrayList<>(app.getEnv());
    env.add(new EnvVar("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/bedrock", null));
    env.add(
        new EnvVar(
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
            null));
    app.setEnv(env);
    app.setVolumeMounts(
        List.of(
            new VolumeMountBuilder()
                .withName("aws-iam-token")
                .withMountPath("/var/run/secrets/eks.amazonaws.com/serviceaccount")
                .withReadOnly(true)
                .build()));
    return pod;
  }

  private static Container sidecar(Pod pod) {
    return pod.getSpec().getInitContainers().get(0);
  }

  @Test
  void aCredentialWithPodIdentityGivesTheSidecarTheAppsIrsaEnvironment() {
    Pod pod = irsaPod();
    injector.inject(pod, Set.of(), true);
    assertThat(sidecar(pod).getEnv())
        .extracting(EnvVar::getName)
        .contains("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")
        .doesNotContain("LLM_MODEL");
    assertThat(sidecar(pod).getVolumeMounts())
        .extracting(VolumeMount::getName)
        .contains("aws-iam-token");
  }

  @Test
  void withoutSuchACredentialTheSidecarGetsNoCloudIdentity() {
    Pod pod = irsaPod();
    injector.inject(pod, Set.of());
    assertThat(sidecar(pod).getEnv())
        .extracting(EnvVar::getName)
        .doesNotContain("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE");
    assertThat(sidecar(pod).getVolumeMounts())
        .extracting(VolumeMount::getName)
        .doesNotContain("aws-iam-token");
  }
}
