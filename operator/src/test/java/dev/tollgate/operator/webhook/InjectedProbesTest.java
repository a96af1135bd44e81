package dev.tollgate.operator.webhook;

import static dev.tollgate.operator.webhook.WebhookFixtures.SETTINGS;
import static dev.tollgate.operator.webhook.WebhookFixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.HealthSettings;
import dev.tollgate.sidecar.config.ServerSettings;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Probe;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * kubelet sends {@code httpGet} probes without {@code host} to the pod IP, so an injected pod
 * starts only if every probe reaches a listener bound beyond loopback. The listeners are computed
 * from the injected container's environment with the sidecar's own settings types (the contract the
 * sidecar reads), not re-stated here.
 */
class InjectedProbesTest {
  private final SidecarInjector injector = new SidecarInjector(SETTINGS);

  /** A listener the sidecar opens: where it binds and what it serves. */
  private record Listener(String what, String bindAddress, int port) {
    boolean reachableFromPodIp() throws Exception {
      return !InetAddress.getByName(bindAddress).isLoopbackAddress();
    }
  }

  @Test
  void everyProbeReachesAListenerBoundBeyondLoopbackAndTheProxyStaysOnLoopback() throws Exception {
    Pod pod = pod(Map.of("tollgate.dev/inject", "true"));
    injector.inject(pod, Set.of("openai-api-key"));
    Container sidecar = pod.getSpec().getInitContainers().get(0);
    List<Listener> listeners = listenersOf(sidecar);

    List<Probe> probes =
        List.of(sidecar.getStartupProbe(), sidecar.getLivenessProbe(), sidecar.getReadinessProbe());
    for (Probe probe : probes) {
      assertThat(probe.getHttpGet().getHost()).as("probe host (empty: the pod IP)").isNull();
      int port = resolve(probe.getHttpGet().getPort(), sidecar);
      Listener target = listeners.stream().filter(l -> l.port() == port).findFirst().orElseThrow();
      assertThat(target.what()).isEqualTo("health");
      assertThat(target.reachableFromPodIp())
          .as("probe port %d is bound beyond loopback", port)
          .isTrue();
    }

    Listener proxy =
        listeners.stream().filter(l -> l.what().equals("proxy")).findFirst().orElseThrow();
    assertThat(proxy.reachableFromPodIp()).as("the proxy holds API keys").isFalse();
    assertThat(sidecar.getPorts())
        .extracting(ContainerPort::getContainerPort)
        .doesNotContain(proxy.port());
  }

  @Test
  void podMonitorPortNameIsTheHealthPort() {
    Pod pod = pod(Map.of("tollgate.dev/inject", "true"));
    injector.inject(pod, Set.of());
    Container sidecar = pod.getSpec().getInitContainers().get(0);

    assertThat(sidecar.getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getName()).isEqualTo(SidecarInjector.HEALTH_PORT_NAME);
              assertThat(p.getContainerPort()).isEqualTo(SETTINGS.healthPort());
            });
  }

  @Test
  void healthPortMustDifferFromTheProxyPort() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new InjectionSettings(
                    "img", null, 4000, 4000, null, null, null, null, null, Set.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("differ from the proxy port");
  }

  private static List<Listener> listenersOf(Container sidecar) {
    Map<String, String> env =
        sidecar.getEnv().stream()
            .filter(e -> e.getValue() != null)
            .collect(
                Collectors.toMap(
                    EnvVar::getName, EnvVar::getValue, (a, b) -> b, LinkedHashMap::new));
    // the proxy binds what the rendered configuration says; the operator leaves it at the default
    ServerSettings server = ServerSettings.defaults();
    int proxyPort = Integer.parseInt(env.getOrDefault("TOLLGATE_PORT", "" + server.port()));
    HealthSettings health = HealthSettings.fromEnv(env);
    return List.of(
        new Listener("proxy", server.bindAddress(), proxyPort),
        new Listener("health", health.bindAddress(), health.port()));
  }

  private static int resolve(IntOrString port, Container container) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return container.getPorts().stream()
        .filter(p -> port.getStrVal().equals(p.getName()))
        .findFirst()
        .orElseThrow(
            () ->
                new AssertionError(
                    "probe names port "
                        + port.getStrVal()
                        + " that the container does not declare"))
        .getContainerPort();
  }
}
