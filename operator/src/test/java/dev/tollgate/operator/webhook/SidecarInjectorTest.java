package dev.tollgate.operator.webhook;

import static dev.tollgate.operator.webhook.WebhookFixtures.SETTINGS;
import static dev.tollgate.operator.webhook.WebhookFixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.operator.webhook.SidecarInjector.Decision;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SidecarInjectorTest {
  private final SidecarInjector injector = new SidecarInjector(SETTINGS);

  @Test
  void optInByPodAnnotationOrNamespaceLabel() {
    assertThat(injector.decide(pod(Map.of("tollgate.dev/inject", "true")), "support", Map.of()))
        .isEqualTo(Decision.INJECT);
    assertThat(
            injector.decide(pod(Map.of()), "support", Map.of("tollgate.dev/injection", "enabled")))
        .isEqualTo(Decision.INJECT);
    assertThat(injector.decide(pod(Map.of()), "support", Map.of()))
        .isEqualTo(Decision.NOT_OPTED_IN);
  }

  @Test
  void optOutAnnotationWinsOverTheNamespaceLabel() {
    assertThat(
            injector.decide(
                pod(Map.of("tollgate.dev/inject", "false")),
                "support",
                Map.of("tollgate.dev/injection", "enabled")))
        .isEqualTo(Decision.OPTED_OUT);
  }

  @Test
  void neverTouchesKubeSystemOrTheOperatorsNamespace() {
    Pod optedIn = pod(Map.of("tollgate.dev/inject", "true"));
    assertThat(injector.decide(optedIn, "kube-system", Map.of()))
        .isEqualTo(Decision.PROTECTED_NAMESPACE);
    assertThat(
            injector.decide(
                optedIn, "tollgate-system", Map.of("tollgate.dev/injection", "enabled")))
        .isEqualTo(Decision.PROTECTED_NAMESPACE);
  }

  @Test
  void addsANativeSidecarWithEverythingItNeeds() {
    Pod pod = pod(Map.of("tollgate.dev/inject", "true"));

    injector.inject(pod, Set.of("openai-api-key", "anthropic-api-key"));

    Container sidecar = pod.getSpec().getInitContainers().get(0);
    assertThat(sidecar.getName()).isEqualTo("tollgate-sidecar");
    assertThat(sidecar.getRestartPolicy()).isEqualTo("Always");
    assertThat(sidecar.getImage()).isEqualTo("ghcr.io/tollgate/tollgate-sidecar:0.1.0");
    assertThat(sidecar.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(sidecar.getResources().getLimits()).containsKey("memory");
    assertThat(sidecar.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(sidecar.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(sidecar.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(sidecar.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(sidecar.getSecurityContext().getRunAsNonRoot()).isTrue();
    // everything read-only but the spool, where unacknowledged reports survive a restart
    assertThat(sidecar.getVolumeMounts())
        .filteredOn(m -> !m.getMountPath().equals("/var/lib/tollgate/spool"))
        .allSatisfy(m -> assertThat(m.getReadOnly()).as(m.getMountPath()).isTrue())
        .extracting(m -> m.getMountPath())
        .containsExactly(
            "/etc/tollgate/config",
            "/var/run/secrets/tollgate",
            "/var/run/tollgate/report-ca",
            "/var/run/tollgate/secrets/anthropic-api-key",
            "/var/run/tollgate/secrets/openai-api-key");
    assertThat(sidecar.getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("TOLLGATE_SPOOL_DIR");
              assertThat(e.getValue()).isEqualTo("/var/lib/tollgate/spool");
            });
    // the report endpoint's CA is mounted (re-read on rotation), never frozen into the env
    assertThat(sidecar.getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("TOLLGATE_REPORT_CA_FILE");
              assertThat(e.getValue()).isEqualTo("/var/run/tollgate/report-ca/ca.crt");
            })
        .noneSatisfy(e -> assertThat(e.getName()).isEqualTo("TOLLGATE_REPORT_CA_PEM"));
    assertThat(pod.getSpec().getVolumes())
        .filteredOn(v -> v.getName().equals("tollgate-report-ca"))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getConfigMap().getName()).isEqualTo("tollgate-report-ca");
              assertThat(v.getConfigMap().getOptional()).isTrue();
            });
    assertThat(pod.getSpec().getVolumes())
        .filteredOn(v -> v.getName().equals("tollgate-spool"))
        .singleElement()
        .satisfies(v -> assertThat(v.getEmptyDir().getSizeLimit().toString()).isEqualTo("16Mi"));

    Volume token =
        pod.getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals("tollgate-token"))
            .findFirst()
            .orElseThrow();
    assertThat(token.getProjected().getSources().get(0).getServiceAccountToken().getAudience())
        .isEqualTo("tollgate");
    assertThat(pod.getSpec().getVolumes())
        .filteredOn(v -> v.getSecret() != null)
        .extracting(v -> v.getSecret().getSecretName())
        .containsExactlyInAnyOrder("openai-api-key", "anthropic-api-key");
    assertThat(pod.getMetadata().getAnnotations()).containsEntry("tollgate.dev/injected", "true");
    assertThat(pod.getMetadata().getLabels()).containsEntry("tollgate.dev/sidecar", "injected");
  }

  @Test
  void pointsTheAppsSdksAtTheSidecarUnlessTheySetTheirOwnUrl() {
    Pod pod = pod(Map.of("tollgate.dev/inject", "true"));
    pod.getSpec()
        .getContainers()
        .get(0)
        .getEnv()
        .add(new EnvVar("ANTHROPIC_BASE_URL", "https://proxy.example", null));

    injector.inject(pod, Set.of());

    assertThat(pod.getSpec().getContainers().get(0).getEnv())
        .extracting(EnvVar::getName, EnvVar::getValue)
        .contains(
            org.assertj.core.groups.Tuple.tuple("OPENAI_BASE_URL", "http://127.0.0.1:4000/v1"),
            org.assertj.core.groups.Tuple.tuple("ANTHROPIC_BASE_URL", "https://proxy.example"),
            org.assertj.core.groups.Tuple.tuple("LLM_MODEL", "support-chat"));
  }

  @Test
  void aPodInjectedTwiceIsUnchanged() {
    Pod pod = pod(Map.of("tollgate.dev/inject", "true"));
    injector.inject(pod, Set.of("openai-api-key"));
    String once = Serialization.asJson(pod);

    Decision second = injector.decide(pod, "support", Map.of("tollgate.dev/injection", "enabled"));

    assertThat(second).isEqualTo(Decision.ALREADY_INJECTED);
    assertThat(Serialization.asJson(pod)).isEqualTo(once);
  }
}
