package dev.tollgate.operator.webhook;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Settings of the sidecar-injection webhook, read once from the environment (the Helm chart sets
 * them; see {@code helm/tollgate/templates/deployment.yaml}).
 *
 * @param enabled serve the webhook ({@code TOLLGATE_WEBHOOK_ENABLED}, default false)
 * @param port HTTPS port ({@code TOLLGATE_WEBHOOK_PORT}, default 8443)
 * @param serviceName the webhook Service, for the certificate's DNS names ({@code
 *     TOLLGATE_WEBHOOK_SERVICE})
 * @param configurationName the MutatingWebhookConfiguration whose caBundle a generated certificate
 *     is published to ({@code TOLLGATE_WEBHOOK_CONFIGURATION})
 * @param certSecret Secret holding a generated certificate shared by the replicas ({@code
 *     TOLLGATE_WEBHOOK_CERT_SECRET})
 * @param certDir directory with {@code tls.crt}/{@code tls.key} from cert-manager; null means
 *     generate ({@code TOLLGATE_WEBHOOK_CERT_DIR})
 * @param injection what is injected ({@code TOLLGATE_SIDECAR_*}, {@code
 *     TOLLGATE_PROTECTED_NAMESPACES})
 */
public record WebhookConfig(
    boolean enabled,
    int port,
    String serviceName,
    String configurationName,
    String certSecret,
    Path certDir,
    InjectionSettings injection) {

  /** Reads the settings; the operator's own namespace is always protected from injection. */
  public static WebhookConfig fromEnv(
      Map<String, String> env, String operatorNamespace, String configMapName) {
    Set<String> protectedNamespaces = new LinkedHashSet<>();
    protectedNamespaces.add(operatorNamespace);
    for (String ns :
        env.getOrDefault("TOLLGATE_PROTECTED_NAMESPACES", "kube-system,kube-public,kube-node-lease")
            .split(",")) {
      if (!ns.isBlank()) {
        protectedNamespaces.add(ns.trim());
      }
    }
    String certDir = env.getOrDefault("TOLLGATE_WEBHOOK_CERT_DIR", "").trim();
    InjectionSettings injection =
        new InjectionSettings(
            env.getOrDefault(
                "TOLLGATE_SIDECAR_IMAGE", "ghcr.io/tollgate-dev/tollgate-sidecar:0.1.0"),
            env.get("TOLLGATE_SIDECAR_IMAGE_PULL_POLICY"),
            integer(env, "TOLLGATE_SIDECAR_PORT", 4000),
            integer(
                env,
                "TOLLGATE_SIDECAR_HEALTH_PORT",
                dev.tollgate.sidecar.config.HealthSettings.DEFAULT_PORT),
            configMapName,
            env.get("TOLLGATE_REPORT_URL"),
            env.get("TOLLGATE_SIDECAR_CPU_REQUEST"),
            env.get("TOLLGATE_SIDECAR_MEMORY_REQUEST"),
            env.get("TOLLGATE_SIDECAR_MEMORY_LIMIT"),
            protectedNamespaces,
            InjectionSettings.passedEnv(env));
    return new WebhookConfig(
        Boolean.parseBoolean(env.getOrDefault("TOLLGATE_WEBHOOK_ENABLED", "false").trim()),
        integer(env, "TOLLGATE_WEBHOOK_PORT", 8443),
        env.getOrDefault("TOLLGATE_WEBHOOK_SERVICE", "tollgate-webhook"),
        env.getOrDefault("TOLLGATE_WEBHOOK_CONFIGURATION", "tollgate-sidecar-injector"),
        env.getOrDefault("TOLLGATE_WEBHOOK_CERT_SECRET", "tollgate-webhook-tls"),
        certDir.isEmpty() ? null : Path.of(certDir),
        injection);
  }

  /** DNS names the API server may use to reach the webhook Service. */
  public List<String> dnsNames(String operatorNamespace) {
    return List.of(
        serviceName + "." + operatorNamespace + ".svc",
        serviceName + "." + operatorNamespace + ".svc.cluster.local");
  }

  private static int integer(Map<String, String> env, String name, int defaultValue) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      return defaultValue;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": expected a number, got '" + value + "'", e);
    }
  }
}
