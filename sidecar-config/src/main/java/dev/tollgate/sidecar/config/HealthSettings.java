package dev.tollgate.sidecar.config;

import java.util.Map;

/**
 * Where the sidecar serves kubelet probes and Prometheus: a listener of its own on all interfaces
 * (kubelet sends {@code httpGet} probes to the pod IP), apart from the proxy, which stays on
 * loopback because it holds the namespace's API keys. The injection webhook sets {@link #PORT_ENV}
 * and points the probes at the port; the sidecar reads both variables with {@link #fromEnv}.
 *
 * @param bindAddress address of the listener; all interfaces by default
 * @param port TCP port of the listener (0: any free port); {@value #DEFAULT_PORT} by default
 */
public record HealthSettings(String bindAddress, int port) {
  /** Environment variable naming the port. */
  public static final String PORT_ENV = "TOLLGATE_HEALTH_PORT";

  /** Environment variable naming the bind address. */
  public static final String BIND_ENV = "TOLLGATE_HEALTH_BIND";

  public static final int DEFAULT_PORT = 4001;
  public static final String DEFAULT_BIND_ADDRESS = "0.0.0.0";

  public HealthSettings {
    bindAddress = bindAddress == null || bindAddress.isBlank() ? DEFAULT_BIND_ADDRESS : bindAddress;
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(PORT_ENV + " out of range 0-65535: " + port);
    }
  }

  /** The settings the environment gives, defaults for what it leaves out. */
  public static HealthSettings fromEnv(Map<String, String> env) {
    String port = env.get(PORT_ENV);
    try {
      return new HealthSettings(
          env.get(BIND_ENV),
          port == null || port.isBlank() ? DEFAULT_PORT : Integer.parseInt(port.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(PORT_ENV + " is not a port number: " + port, e);
    }
  }
}
