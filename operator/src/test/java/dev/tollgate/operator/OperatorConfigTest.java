package dev.tollgate.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorConfigTest {
  @Test
  void defaultsWatchAllNamespacesWithLeaderElection() {
    OperatorConfig c = OperatorConfig.from(Map.of("HOSTNAME", "pod-1"));
    assertThat(c.watchesAllNamespaces()).isTrue();
    assertThat(c.leaderElection()).isTrue();
    assertThat(c.identity()).isEqualTo("pod-1");
    assertThat(c.configMapName()).isEqualTo("tollgate-sidecar-config");
    assertThat(c.httpPort()).isEqualTo(8080);
    assertThat(c.leaseDuration()).isEqualTo(Duration.ofSeconds(15));
  }

  @Test
  void flagsOverrideEnvironment() {
    OperatorConfig c =
        OperatorConfig.from(
            Map.of("TOLLGATE_WATCH_NAMESPACES", "a, b", "TOLLGATE_HTTP_PORT", "9000"),
            "--http-port=9100",
            "--leader-election=false");
    assertThat(c.watchNamespaces()).containsExactlyInAnyOrder("a", "b");
    assertThat(c.httpPort()).isEqualTo(9100);
    assertThat(c.leaderElection()).isFalse();
  }

  @Test
  void theLeaseLivesInThePodsNamespaceUnlessConfigured() {
    assertThat(OperatorConfig.from(Map.of("POD_NAMESPACE", "ops")).operatorNamespace())
        .isEqualTo("ops");
    assertThat(
            OperatorConfig.from(
                    Map.of("POD_NAMESPACE", "ops", "TOLLGATE_OPERATOR_NAMESPACE", "tollgate"))
                .operatorNamespace())
        .isEqualTo("tollgate");
    assertThat(OperatorConfig.from(Map.of()).operatorNamespace()).isEqualTo("tollgate-system");
  }

  @Test
  void wrongValuesNameTheSetting() {
    assertThatThrownBy(() -> OperatorConfig.from(Map.of("TOLLGATE_HTTP_PORT", "http")))
        .hasMessageContaining("TOLLGATE_HTTP_PORT");
    assertThatThrownBy(() -> OperatorConfig.from(Map.of(), "--nope=1"))
        .hasMessageContaining("unknown flag --nope");
    assertThatThrownBy(() -> OperatorConfig.from(Map.of(), "--resync-interval=soon"))
        .hasMessageContaining("--resync-interval");
  }
}
