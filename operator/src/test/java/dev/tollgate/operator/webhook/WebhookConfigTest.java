package dev.tollgate.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WebhookConfigTest {
  @Test
  void defaultsAreOffAndProtectTheSystemAndOperatorNamespaces() {
    WebhookConfig config =
        WebhookConfig.fromEnv(Map.of(), "tollgate-system", "tollgate-sidecar-config");

    assertThat(config.enabled()).isFalse();
    assertThat(config.port()).isEqualTo(8443);
    assertThat(config.certDir()).isNull();
    assertThat(config.injection().port()).isEqualTo(4000);
    assertThat(config.injection().protectedNamespaces())
        .containsExactlyInAnyOrder(
            "tollgate-system", "kube-system", "kube-public", "kube-node-lease");
    assertThat(config.dnsNames("tollgate-system"))
        .containsExactly(
            "tollgate-webhook.tollgate-system.svc",
            "tollgate-webhook.tollgate-system.svc.cluster.local");
  }

  @Test
  void readsWhatTheChartSets() {
    WebhookConfig config =
        WebhookConfig.fromEnv(
            Map.of(
                "TOLLGATE_WEBHOOK_ENABLED", "true",
                "TOLLGATE_WEBHOOK_CERT_DIR", "/etc/tollgate/webhook-tls",
                "TOLLGATE_PROTECTED_NAMESPACES", "tollgate-system,kube-system",
                "TOLLGATE_SIDECAR_IMAGE", "registry.example/tollgate-sidecar:1.2.3",
                "TOLLGATE_SIDECAR_PORT", "4100",
                "TOLLGATE_SIDECAR_MEMORY_LIMIT", "256Mi"),
            "tollgate-system",
            "tollgate-sidecar-config");

    assertThat(config.enabled()).isTrue();
    assertThat(config.certDir()).isEqualTo(Path.of("/etc/tollgate/webhook-tls"));
    assertThat(config.injection().sidecarImage())
        .isEqualTo("registry.example/tollgate-sidecar:1.2.3");
    assertThat(config.injection().openAiBaseUrl()).isEqualTo("http://127.0.0.1:4100/v1");
    assertThat(config.injection().memoryLimit()).isEqualTo("256Mi");
  }

  /**
   * Memory derived from bench/results/footprint.md and large-bodies-rss.md: the request covers the
   * RSS after traffic, the limit the highest RSS seen (213 MiB), which the old 96Mi/192Mi did not.
   */
  @Test
  void defaultMemoryCoversTheMeasuredSidecar() {
    WebhookConfig config = WebhookConfig.fromEnv(Map.of(), "tollgate-system", "cm");
    assertThat(config.injection().memoryRequest()).isEqualTo("160Mi");
    assertThat(config.injection().memoryLimit()).isEqualTo("256Mi");
  }

  @Test
  void tracingAndAttributionSettingsReachTheInjectedSidecar() {
    WebhookConfig config =
        WebhookConfig.fromEnv(
            Map.of(
                "TOLLGATE_SIDECAR_OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318",
                "TOLLGATE_SIDECAR_OTEL_TRACES_SAMPLER_ARG", "0.25",
                "TOLLGATE_SIDECAR_TOLLGATE_USER_HEADER", "x-end-user",
                "TOLLGATE_SIDECAR_OTEL_EXPORTER_OTLP_HEADERS", "authorization=secret",
                "TOLLGATE_SIDECAR_TOLLGATE_FEATURE_HEADER", " "),
            "tollgate-system",
            "tollgate-sidecar-config");
    assertThat(config.injection().sidecarEnv())
        .as("only the passed names, set and not blank; never the export headers")
        .containsOnly(
            Map.entry("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318"),
            Map.entry("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            Map.entry("TOLLGATE_USER_HEADER", "x-end-user"));

    io.fabric8.kubernetes.api.model.Pod pod =
        WebhookFixtures.pod(Map.of("tollgate.dev/inject", "true"));
    new SidecarInjector(config.injection()).inject(pod, java.util.Set.of());
    assertThat(pod.getSpec().getInitContainers().get(0).getEnv())
        .extracting(e -> e.getName() + "=" + e.getValue())
        .contains(
            "OTEL_EXPORTER_OTLP_ENDPOINT=http://otel:4318",
            "OTEL_TRACES_SAMPLER_ARG=0.25",
            "TOLLGATE_USER_HEADER=x-end-user")
        .noneMatch(e -> e.startsWith("OTEL_EXPORTER_OTLP_HEADERS"));
  }

  @Test
  void aBadNumberSaysWhichVariable() {
    assertThatThrownBy(
            () ->
                WebhookConfig.fromEnv(
                    Map.of("TOLLGATE_SIDECAR_PORT", "four thousand"),
                    "ns",
                    "tollgate-sidecar-config"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TOLLGATE_SIDECAR_PORT");
  }
}
