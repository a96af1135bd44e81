package dev.tollgate.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The operator's plain-HTTP port serves /metrics, whose budget gauges name every namespace's
 * budgets; the report port takes reports from any pod that has a token. With {@code
 * networkPolicy.enabled} only monitoring reaches the first and only injected sidecars the second.
 */
class NetworkPolicyTest {
  @Test
  void offByDefault() throws Exception {
    assertThat(HelmChart.template().kinds()).doesNotContain("NetworkPolicy");
  }

  @Test
  void metricsOnlyFromMonitoringReportsOnlyFromSidecars() throws Exception {
    JsonNode policy =
        HelmChart.template(
                "--set",
                "networkPolicy.enabled=true",
                "--set",
                "networkPolicy.apiServerCidrs[0]=10.0.0.0/16")
            .one("NetworkPolicy");
    JsonNode ingress = policy.at("/spec/ingress");
    assertThat(ingress).hasSize(3);
    assertThat(ingress.get(0).at("/ports/0/port").asText()).isEqualTo("webhook");
    assertThat(ingress.get(0).at("/from/0/ipBlock/cidr").asText()).isEqualTo("10.0.0.0/16");
    assertThat(ingress.get(1).at("/ports/0/port").asText()).isEqualTo("reports");
    assertThat(ingress.get(1).at("/from/0/podSelector/matchLabels/tollgate.dev~1sidecar").asText())
        .isEqualTo("injected");
    assertThat(ingress.get(2).at("/ports/0/port").asText()).isEqualTo("http");
    assertThat(
            ingress
                .get(2)
                .at("/from/0/namespaceSelector/matchLabels/kubernetes.io~1metadata.name")
                .asText())
        .isEqualTo("monitoring");
  }
}
