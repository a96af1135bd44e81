package dev.tollgate.sidecar.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TracingSettingsTest {

  @Test
  void offWithoutAnEndpoint() {
    TracingSettings s = TracingSettings.fromEnv(Map.of("OTEL_SERVICE_NAME", "x"));
    assertThat(s.enabled()).isFalse();
    assertThat(Tracing.start(s).enabled()).isFalse();
    assertThat(Tracing.start(s).describe()).contains("tracing off");
  }

  @Test
  void batchesAreLargeByDefaultAndNeverLargerThanTheQueue() {
    TracingSettings d =
        TracingSettings.fromEnv(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://o:4318"));
    // two export requests a second at 2,000 calls/s: each costs about the same CPU whatever its
    // size
    assertThat(d.maxExportBatchSize()).isEqualTo(1024);
    assertThat(d.maxQueueSize()).isEqualTo(2048);
    TracingSettings small =
        TracingSettings.fromEnv(
            Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://o:4318", "OTEL_BSP_MAX_QUEUE_SIZE", "1000"));
    assertThat(small.maxExportBatchSize()).isEqualTo(1000);
    TracingSettings content =
        TracingSettings.fromEnv(
            Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://o:4318", "TOLLGATE_TRACE_CONTENT", "true"));
    // spans with texts: a smaller default queue for the heap
    assertThat(content.maxQueueSize()).isEqualTo(1024);
    assertThat(content.maxExportBatchSize()).isEqualTo(512);
  }

  @Test
  void theBaseEndpointGetsTheTracesPathAndTheSignalEndpointIsTakenAsIs() {
    assertThat(
            TracingSettings.fromEnv(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318/"))
                .endpoint())
        .isEqualTo(URI.create("http://otel:4318/v1/traces"));
    assertThat(
            TracingSettings.fromEnv(
                    Map.of(
                        "OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318",
                        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://x.example/otlp/traces"))
                .endpoint())
        .isEqualTo(URI.create("https://x.example/otlp/traces"));
  }

  @Test
  void disabledByTheStandardSwitches() {
    assertThat(
            TracingSettings.fromEnv(
                    Map.of(
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        "http://otel:4318",
                        "OTEL_SDK_DISABLED",
                        "true"))
                .enabled())
        .isFalse();
    assertThat(
            TracingSettings.fromEnv(
                    Map.of(
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        "http://otel:4318",
                        "OTEL_TRACES_EXPORTER",
                        "none"))
                .enabled())
        .isFalse();
  }

  @Test
  void samplerResourceQueueAndContent() {
    TracingSettings s =
        TracingSettings.fromEnv(
            Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318",
                "OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc,x-team=ml",
                "OTEL_TRACES_SAMPLER", "parentbased_traceidratio",
                "OTEL_TRACES_SAMPLER_ARG", "0.25",
                "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,service.name=ignored",
                "OTEL_SERVICE_NAME", "svc",
                "TOLLGATE_POD_NAMESPACE", "team-a",
                "OTEL_BSP_MAX_QUEUE_SIZE", "100",
                "TOLLGATE_TRACE_CONTENT", "true",
                "TOLLGATE_TRACE_CONTENT_MAX_CHARS", "300"));
    assertThat(s.headers())
        .containsEntry("authorization", "Bearer abc")
        .containsEntry("x-team", "ml");
    assertThat(s.sampler()).isEqualTo("parentbased_traceidratio");
    assertThat(s.ratio()).isEqualTo(0.25);
    assertThat(s.resource())
        .containsEntry("service.name", "svc")
        .containsEntry("deployment.environment", "prod")
        .containsEntry("k8s.namespace.name", "team-a");
    assertThat(s.maxQueueSize()).isEqualTo(100);
    assertThat(s.maxExportBatchSize()).isEqualTo(100);
    assertThat(s.content()).isTrue();
    assertThat(s.contentMaxChars()).isEqualTo(300);
    assertThat(Tracing.sampler(s).getDescription()).contains("0.25");
    Tracing t = Tracing.start(s);
    try {
      assertThat(t.describe())
          .contains("http://otel:4318/v1/traces")
          .contains("content capture on")
          .doesNotContain("abc");
    } finally {
      t.close();
    }
  }

  @Test
  void malformedValuesAreRefusedWithTheVariableNamed() {
    Map<String, String> base = Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318");
    Map<String, String> ratio = with(base, "OTEL_TRACES_SAMPLER", "traceidratio");
    assertThatThrownBy(() -> TracingSettings.fromEnv(with(ratio, "OTEL_TRACES_SAMPLER_ARG", "2")))
        .hasMessageContaining("OTEL_TRACES_SAMPLER_ARG");
    assertThatThrownBy(
            () -> TracingSettings.fromEnv(with(base, "OTEL_TRACES_SAMPLER", "jaeger_remote")))
        .hasMessageContaining("OTEL_TRACES_SAMPLER");
    assertThatThrownBy(
            () -> TracingSettings.fromEnv(with(base, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")))
        .hasMessageContaining("http/protobuf");
    assertThatThrownBy(
            () -> TracingSettings.fromEnv(with(base, "OTEL_BSP_MAX_QUEUE_SIZE", "10000000")))
        .hasMessageContaining("OTEL_BSP_MAX_QUEUE_SIZE");
    assertThatThrownBy(
            () -> TracingSettings.fromEnv(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "otel:4318")))
        .hasMessageContaining("http(s) URL");
  }

  @Test
  void providerNamesFollowTheConventions() {
    assertThat(CallTrace.providerName("bedrock")).isEqualTo("aws.bedrock");
    assertThat(CallTrace.providerName("vertex-ai")).isEqualTo("gcp.vertex_ai");
    assertThat(CallTrace.providerName("azure-openai")).isEqualTo("azure.ai.openai");
    assertThat(CallTrace.providerName("openai")).isEqualTo("openai");
    assertThat(CallTrace.operation("openai_embeddings")).isEqualTo("embeddings");
  }

  private static Map<String, String> with(Map<String, String> m, String k, String v) {
    Map<String, String> out = new java.util.HashMap<>(m);
    out.put(k, v);
    return out;
  }

  @Test
  void theWorkloadTheWebhookResolvedIsAResourceAttributeByTheK8sConventions() {
    TracingSettings s =
        TracingSettings.fromEnv(
            Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318",
                "TOLLGATE_WORKLOAD_KIND", "Deployment",
                "TOLLGATE_WORKLOAD_NAME", "checkout"));
    assertThat(s.resource()).containsEntry("k8s.deployment.name", "checkout");
    assertThat(
            TracingSettings.fromEnv(
                    Map.of(
                        "TOLLGATE_WORKLOAD_KIND", "CronJob", "TOLLGATE_WORKLOAD_NAME", "nightly"))
                .resource())
        .containsEntry("k8s.cronjob.name", "nightly");
    // a kind outside the known set names no attribute
    assertThat(
            TracingSettings.fromEnv(
                    Map.of("TOLLGATE_WORKLOAD_KIND", "Evil", "TOLLGATE_WORKLOAD_NAME", "x"))
                .resource())
        .doesNotContainKey("k8s.evil.name");
  }
}
