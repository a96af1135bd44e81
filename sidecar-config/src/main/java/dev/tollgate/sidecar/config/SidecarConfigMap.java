package dev.tollgate.sidecar.config;

/**
 * The ConfigMap through which the operator hands a namespace's {@link SidecarConfig} to its
 * sidecars: its name, the key holding the YAML, and the labels and annotations the operator sets.
 * The injection webhook mounts it; the sidecar reads {@link #KEY} from the mounted directory.
 */
public final class SidecarConfigMap {
  /** Name of the ConfigMap in each namespace that has at least one LLMRoute. */
  public static final String NAME = "tollgate-sidecar-config";

  /** Key holding {@link SidecarConfigCodec#write} output of the namespace's configuration. */
  public static final String KEY = "config.yaml";

  /** Label set on every object the operator owns. */
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

  /** Value of {@link #MANAGED_BY_LABEL}. */
  public static final String MANAGED_BY = "tollgate-operator";

  /** Label naming what the object is for. */
  public static final String COMPONENT_LABEL = "app.kubernetes.io/component";

  /** Value of {@link #COMPONENT_LABEL} on the sidecar ConfigMap. */
  public static final String COMPONENT = "sidecar-config";

  /**
   * Annotation holding the configuration's version ({@link SidecarConfig#version()}, the content
   * hash), so that the webhook can stamp pods with it and a person can see it without parsing YAML.
   */
  public static final String VERSION_ANNOTATION = "tollgate.dev/config-version";

  /**
   * The ConfigMap, next to the configuration in each tenant namespace, that holds the CA bundle of
   * the operator's report endpoint; injected pods mount it and the sidecar re-reads it when it
   * changes, so a rotated CA reaches running sidecars.
   */
  public static final String REPORT_CA_NAME = "tollgate-report-ca";

  /** The key of the CA bundle (PEM) in {@link #REPORT_CA_NAME}. */
  public static final String REPORT_CA_KEY = "ca.crt";

  /** Component label value of {@link #REPORT_CA_NAME}. */
  public static final String REPORT_CA_COMPONENT = "report-ca";

  private SidecarConfigMap() {}
}
