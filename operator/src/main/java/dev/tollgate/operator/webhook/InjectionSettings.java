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
 * @param memoryRequest memory request of the sidecar, e.g. {@code 96Mi}
 * @param memoryLimit memory limit of the sidecar, e.g. {@code 192Mi}
 * @param protectedNamespaces namespaces never injected: kube-system and the operator's own
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
    Set<String> protectedNamespaces) {

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
    memoryRequest = memoryRequest == null ? "96Mi" : memoryRequest;
    memoryLimit = memoryLimit == null ? "192Mi" : memoryLimit;
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
