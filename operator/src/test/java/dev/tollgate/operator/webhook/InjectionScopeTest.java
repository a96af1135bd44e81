package dev.tollgate.operator.webhook;

import static dev.tollgate.operator.webhook.WebhookFixtures.SETTINGS;
import static dev.tollgate.operator.webhook.WebhookFixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.operator.webhook.SidecarInjector.Decision;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Which pods get the sidecar: opted in by pod label or namespace label, never host-network pods.
 */
class InjectionScopeTest {
  private final SidecarInjector injector = new SidecarInjector(SETTINGS);

  private static Pod labelled(String value) {
    Pod pod = pod(Map.of());
    pod.getMetadata().setLabels(Map.of(InjectionSettings.INJECT_LABEL, value));
    return pod;
  }

  @Test
  void aPodLabelOptsInAndOut() {
    assertThat(injector.decide(labelled("true"), "support", Map.of())).isEqualTo(Decision.INJECT);
    assertThat(
            injector.decide(
                labelled("false"), "support", Map.of("tollgate.dev/injection", "enabled")))
        .isEqualTo(Decision.OPTED_OUT);
  }

  @Test
  void hostNetworkPodsAreNeverInjected() {
    // the sidecar's loopback port, which holds the namespace's API keys, would be the node's
    Pod pod = labelled("true");
    pod.getSpec().setHostNetwork(true);
    assertThat(injector.decide(pod, "support", Map.of())).isEqualTo(Decision.HOST_NETWORK);
    Pod inEnabledNamespace = pod(Map.of());
    inEnabledNamespace.getSpec().setHostNetwork(true);
    assertThat(
            injector.decide(
                inEnabledNamespace, "support", Map.of("tollgate.dev/injection", "enabled")))
        .isEqualTo(Decision.HOST_NETWORK);
  }
}
