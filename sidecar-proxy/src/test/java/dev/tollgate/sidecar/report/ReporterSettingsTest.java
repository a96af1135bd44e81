package dev.tollgate.sidecar.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReporterSettingsTest {
  private static final String CA = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n";

  @Test
  void theConfigurationIsFetchedNextToTheReportsWithTheGraceFromTheEnvironment() throws Exception {
    ReporterSettings s =
        ReporterSettings.fromEnv(
            Map.of(
                "TOLLGATE_REPORT_URL",
                    "https://tollgate-operator.tollgate-system.svc:8444/v1/reports",
                "TOLLGATE_REPORT_CA_PEM", CA,
                "TOLLGATE_POD_NAMESPACE", "team-a",
                "TOLLGATE_POD_NAME", "pod",
                "TOLLGATE_POD_UID", "uid",
                "TOLLGATE_CONFIG_FETCH_GRACE", "30s"));
    assertThat(s.configUrl())
        .isEqualTo(URI.create("https://tollgate-operator.tollgate-system.svc:8444/v1/config"));
    assertThat(s.configFetchGrace()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void aPathPrefixIsKeptAndTheGraceDefaultsToTenSeconds() {
    ReporterSettings s =
        new ReporterSettings(
            URI.create("https://gw.example:443/tollgate/v1/reports"),
            null,
            CA,
            "team-a",
            "pod",
            "uid",
            null);
    assertThat(s.configUrl()).isEqualTo(URI.create("https://gw.example:443/tollgate/v1/config"));
    assertThat(s.configFetchGrace()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void reportingNeedsThePodsNameAndUid() {
    // the operator accepts reports only from the pod the token is bound to, by name and UID
    assertThatThrownBy(
            () ->
                new ReporterSettings(
                    URI.create("https://op:8444/v1/reports"),
                    null,
                    CA,
                    "team-a",
                    null,
                    "uid",
                    null))
        .hasMessageContaining("TOLLGATE_POD_NAME");
  }

  @Test
  void theWorkloadComesFromTheWebhooksEnvironmentAndOnlyWhenWellFormed() {
    assertThat(
            ReporterSettings.workloadFromEnv(
                java.util.Map.of(
                    "TOLLGATE_WORKLOAD_KIND", "Deployment",
                    "TOLLGATE_WORKLOAD_NAME", "checkout",
                    "TOLLGATE_WORKLOAD_SOURCE", "naming",
                    "TOLLGATE_SERVICE_ACCOUNT", "checkout-sa")))
        .isEqualTo(
            new dev.tollgate.sidecar.config.report.UsageReport.Workload(
                "Deployment", "checkout", "checkout-sa", "naming"));
    assertThat(ReporterSettings.workloadFromEnv(java.util.Map.of())).isNull();
    assertThat(
            ReporterSettings.workloadFromEnv(
                java.util.Map.of(
                    "TOLLGATE_WORKLOAD_KIND", "Secret", "TOLLGATE_WORKLOAD_NAME", "x")))
        .isNull();
    assertThat(
            ReporterSettings.workloadFromEnv(
                java.util.Map.of(
                    "TOLLGATE_WORKLOAD_KIND", "Deployment", "TOLLGATE_WORKLOAD_NAME", "Bad Name")))
        .isNull();
  }
}
