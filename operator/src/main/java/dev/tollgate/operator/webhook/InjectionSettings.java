package dev.tollgate.operator.webhook;

import dev.tollgate.sidecar.config.SidecarConfigMap;
import java.util.Objects;
import java.util.Set;

/**
 * What the webhook injects: the sidecar image and its resources, where it listens, which ConfigMap
 * holds the namespace's rendered configuration, and where the sidecar reports to.
 *
 * @param sidecarImage image of the Tollgate sidecar
 * @param imagePullPolicy pull policy of the sidecar image
 * @param port loopback port the sidecar listens on; apps' base URLs point there
 * @param healthPort port of the sidecar's probe and metrics listener on all interfaces (kubelet
 *     probes and Prometheus reach the pod IP); never the proxy's port
 * @param configMapName the per-namespace ConfigMap the operator renders
 * @param reportUrl the operator's reporting endpoint (https URL inside the cluster); null until the
 *     reporting channel exists
 * @param cpuRequest CPU request of the sidecar, e.g. {@code 50m}
 * @param memoryRequest memory request of the sidecar, default {@value #DEFAULT_MEMORY_REQUEST}: its
 *     RSS after traffic (idle 118-136 MiB, 133-148 MiB with 200 open streams in
 *     bench/results/footprint.md; the heap, once grown, is not given back)
 * @param memoryLimit memory limit of the sidecar, default {@value #DEFAULT_MEMORY_LIMIT}: above the
 *     highest RSS seen after large bodies and answers (bench/results/large-bodies-rss.md, 213 MiB
 *     with a C2 compilation's 30 MiB arena on top of the full 96 MiB heap), so the kubelet never
 *     kills a healthy sidecar; bodies are bounded by the heap, not by this limit
 * @param protectedNamespaces namespaces never injected: kube-system and the operator's own
 * @param sidecarEnv extra environment of the sidecar: its OpenTelemetry and attribution settings
 *     ({@link #PASSED_ENV}), never secrets
 */
public record InjectionSettings(
    String sidecarImage,
    String imagePullPolicy,
    int port,
    int healthPort,
    String configMapName,
    String reportUrl,
    String cpuRequest,
    String memoryRequest,
    String memoryLimit,
    Set<String> protectedNamespaces,
    java.util.Map<String, String> sidecarEnv) {
  /** The sidecar's memory request when none is configured (the chart sets the same). */
  public static final String DEFAULT_MEMORY_REQUEST = "160Mi";

  /** The sidecar's memory limit when none is configured (the chart sets the same). */
  public static final String DEFAULT_MEMORY_LIMIT = "256Mi";

  /**
   * Sidecar variables (values) the operator passes on from its own (keys): where traces go and how
   * they are sampled, content capture, the attribution headers. The OTLP export headers are not
   * among them (they may hold an API key, and the operator's environment is no place for a tenant's
   * secret).
   */
  public static final java.util.Map<String, String> PASSED_ENV =
      java.util.Map.ofEntries(
          java.util.Map.entry(
              "TOLLGATE_SIDECAR_OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
          java.util.Map.entry(
              "TOLLGATE_SIDECAR_OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
              "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
          java.util.Map.entry("TOLLGATE_SIDECAR_OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER"),
          java.util.Map.entry(
              "TOLLGATE_SIDECAR_OTEL_TRACES_SAMPLER_ARG", "OTEL_TRACES_SAMPLER_ARG"),
          java.util.Map.entry(
              "TOLLGATE_SIDECAR_OTEL_RESOURCE_ATTRIBUTES", "OTEL_RESOURCE_ATTRIBUTES"),
          java.util.Map.entry("TOLLGATE_SIDECAR_OTEL_SERVICE_NAME", "OTEL_SERVICE_NAME"),
          java.util.Map.entry(
              "TOLLGATE_SIDECAR_OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_QUEUE_SIZE"),
          java.util.Map.entry("TOLLGATE_SIDECAR_TOLLGATE_TRACE_CONTENT", "TOLLGATE_TRACE_CONTENT"),
          java.util.Map.entry(
              "TOLLGATE_SIDECAR_TOLLGATE_TRACE_CONTENT_MAX_CHARS",
              "TOLLGATE_TRACE_CONTENT_MAX_CHARS"),
          java.util.Map.entry("TOLLGATE_SIDECAR_TOLLGATE_USER_HEADER", "TOLLGATE_USER_HEADER"),
          java.util.Map.entry(
              "TOLLGATE_SIDECAR_TOLLGATE_FEATURE_HEADER", "TOLLGATE_FEATURE_HEADER"),
          java.util.Map.entry(
              "TOLLGATE_SIDECAR_TOLLGATE_CONVERSATION_HEADER", "TOLLGATE_CONVERSATION_HEADER"),
          java.util.Map.entry(
              "TOLLGATE_SIDECAR_TOLLGATE_CONVERSATION_COST_USD", "TOLLGATE_CONVERSATION_COST_USD"));

  /** Settings without extra sidecar environment. */
  public InjectionSettings(
      String sidecarImage,
      String imagePullPolicy,
      int port,
      int healthPort,
      String configMapName,
      String reportUrl,
      String cpuRequest,
      String memoryRequest,
      String memoryLimit,
      Set<String> protectedNamespaces) {
    this(
        sidecarImage,
        imagePullPolicy,
        port,
        healthPort,
        configMapName,
        reportUrl,
        cpuRequest,
        memoryRequest,
        memoryLimit,
        protectedNamespaces,
        java.util.Map.of());
  }

  /** The sidecar's variables from the operator's {@link #PASSED_ENV} that are set. */
  public static java.util.Map<String, String> passedEnv(java.util.Map<String, String> env) {
    java.util.Map<String, String> out = new java.util.TreeMap<>();
    PASSED_ENV.forEach(
        (operatorName, sidecarName) -> {
          String v = env.get(operatorName);
          if (v != null && !v.isBlank()) {
            out.put(sidecarName, v.trim());
          }
        });
    return out;
  }

  /**
   * Pod label: {@code "true"} opts a pod in, {@code "false"} opts it out. A label, so that the
   * webhook configuration's objectSelector sends the API server's admission calls only for pods
   * that opted in (or pods of opted-in namespaces).
   */
  public static final String INJECT_LABEL = "tollgate.dev/inject";

  /**
   * Pod annotation of earlier versions, same values as {@link #INJECT_LABEL}; honoured where the
   * webhook is called (pods of labelled namespaces), the label wins when both are set.
   */
  public static final String INJECT_ANNOTATION = "tollgate.dev/inject";

  /** Namespace label: {@code enabled} opts every pod of the namespace in. */
  public static final String NAMESPACE_LABEL = "tollgate.dev/injection";

  /** Pod annotation the webhook sets on pods it injected. */
  public static final String INJECTED_ANNOTATION = "tollgate.dev/injected";

  /**
   * Pod label the webhook sets on pods it injected, so that a PodMonitor (or a person with {@code
   * kubectl get pods -l tollgate.dev/sidecar=injected}) can select them.
   */
  public static final String INJECTED_LABEL = "tollgate.dev/sidecar";

  /** Name of the injected init container (a native sidecar). */
  public static final String CONTAINER_NAME = "tollgate-sidecar";

  /** Audience of the projected ServiceAccount token the sidecar presents to the operator. */
  public static final String TOKEN_AUDIENCE = "tollgate";

  /** Where the namespace's ConfigMap is mounted; the sidecar reads {@code config.yaml} there. */
  public static final String CONFIG_MOUNT = "/etc/tollgate/config";

  /**
   * Where the report endpoint's CA bundle ({@code tollgate-report-ca}) is mounted; the sidecar
   * re-reads {@code ca.crt} there when it changes.
   */
  public static final String REPORT_CA_MOUNT = "/var/run/tollgate/report-ca";

  /** Where the projected ServiceAccount token for the reporting channel is mounted. */
  public static final String TOKEN_MOUNT = "/var/run/secrets/tollgate";

  /**
   * Where the sidecar keeps reports the operator has not acknowledged yet (an emptyDir, so they
   * survive a restart of the sidecar container, not the pod's deletion).
   */
  public static final String SPOOL_MOUNT = "/var/lib/tollgate/spool";

  public InjectionSettings {
    Objects.requireNonNull(sidecarImage, "sidecarImage");
    sidecarEnv = sidecarEnv == null ? java.util.Map.of() : java.util.Map.copyOf(sidecarEnv);
    configMapName = configMapName == null ? SidecarConfigMap.NAME : configMapName;
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("sidecar port out of range: " + port);
    }
    if (healthPort < 1 || healthPort > 65535 || healthPort == port) {
      throw new IllegalArgumentException(
          "sidecar health port must be 1-65535 and differ from the proxy port "
              + port
              + ": "
              + healthPort);
    }
    imagePullPolicy = imagePullPolicy == null ? "IfNotPresent" : imagePullPolicy;
    cpuRequest = cpuRequest == null ? "50m" : cpuRequest;
    memoryRequest = memoryRequest == null ? DEFAULT_MEMORY_REQUEST : memoryRequest;
    memoryLimit = memoryLimit == null ? DEFAULT_MEMORY_LIMIT : memoryLimit;
    protectedNamespaces = Set.copyOf(protectedNamespaces);
  }

  /** Base URL for OpenAI SDKs (they append {@code /chat/completions}). */
  public String openAiBaseUrl() {
    return "http://127.0.0.1:" + port + "/v1";
  }

  /** Base URL for Anthropic SDKs (they append {@code /v1/messages}). */
  public String anthropicBaseUrl() {
    return "http://127.0.0.1:" + port;
  }
}
