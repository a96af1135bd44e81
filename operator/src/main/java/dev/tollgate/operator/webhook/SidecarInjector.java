package dev.tollgate.operator.webhook;

import dev.tollgate.sidecar.config.HealthSettings;
import dev.tollgate.sidecar.config.SecretMounts;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decides whether a pod gets the Tollgate sidecar and adds it: a native sidecar (init container
 * with {@code restartPolicy: Always}) with probes, resources and a hardened security context, the
 * namespace's configuration and the referenced Secrets mounted read-only, a projected
 * ServiceAccount token for the reporting channel, and the app containers' OpenAI/Anthropic base
 * URLs pointed at the sidecar unless they set them. Pure: no API calls, so every case is testable.
 */
public final class SidecarInjector {
  static final String CONFIG_VOLUME = "tollgate-config";
  static final String TOKEN_VOLUME = "tollgate-token";
  static final String SPOOL_VOLUME = "tollgate-spool";
  static final String REPORT_CA_VOLUME = "tollgate-report-ca";
  static final long TOKEN_EXPIRATION_SECONDS = 3600;

  private final InjectionSettings settings;

  /**
   * Name of the sidecar's probe and metrics port: the injected probes and the chart's PodMonitor
   * refer to it by this name.
   */
  public static final String HEALTH_PORT_NAME = "tollgate-health";

  private final String reportCaPem;

  public SidecarInjector(InjectionSettings settings) {
    this(settings, null);
  }

  /**
   * @param reportCaPem PEM of the CA of the operator's report endpoint when the pod is created; not
   *     put into the pod any more (a CA in the environment could not follow a rotation): the pod
   *     mounts the ConfigMap {@code tollgate-report-ca} the operator keeps current instead
   */
  public SidecarInjector(InjectionSettings settings, String reportCaPem) {
    this.reportCaPem = reportCaPem;
    this.settings = settings;
  }

  /** Why a pod was or was not injected; logged and counted by the webhook. */
  public enum Decision {
    INJECT,
    PROTECTED_NAMESPACE,
    OPTED_OUT,
    NOT_OPTED_IN,
    ALREADY_INJECTED,
    /**
     * The pod shares the node's network namespace: its loopback is the node's, so the sidecar
     * (which holds the namespace's API keys on a loopback port) would serve every process on the
     * node.
     */
    HOST_NETWORK
  }

  /**
   * Whether the pod should be injected.
   *
   * @param namespaceLabels labels of the pod's namespace (empty if unknown)
   */
  public Decision decide(Pod pod, String namespace, Map<String, String> namespaceLabels) {
    if (settings.protectedNamespaces().contains(namespace)) {
      return Decision.PROTECTED_NAMESPACE;
    }
    // the pod label is what the webhook's objectSelector matches; the annotation of earlier
    // versions still opts in or out where the webhook is called (labelled namespaces)
    String podChoice = labels(pod).get(InjectionSettings.INJECT_LABEL);
    if (podChoice == null) {
      podChoice = annotations(pod).get(InjectionSettings.INJECT_ANNOTATION);
    }
    if ("false".equalsIgnoreCase(podChoice)) {
      return Decision.OPTED_OUT;
    }
    if (alreadyInjected(pod)) {
      return Decision.ALREADY_INJECTED;
    }
    if (pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork())) {
      return Decision.HOST_NETWORK;
    }
    boolean namespaceOptIn =
        "enabled".equalsIgnoreCase(namespaceLabels.get(InjectionSettings.NAMESPACE_LABEL));
    if ("true".equalsIgnoreCase(podChoice) || namespaceOptIn) {
      return Decision.INJECT;
    }
    return Decision.NOT_OPTED_IN;
  }

  /**
   * Adds the sidecar to {@code pod} in place. Call only when {@link #decide} said {@link
   * Decision#INJECT}.
   *
   * @param secretNames Secrets the namespace's credentials reference; each is mounted read-only
   */
  public void inject(Pod pod, Set<String> secretNames) {
    inject(pod, secretNames, false);
  }

  /**
   * As {@link #inject(Pod, Set)}; with {@code podIdentity} (a credential uses {@code awsIam} or
   * {@code azureWorkloadIdentity}) the sidecar also gets the cloud identity environment the app
   * containers have ({@link CloudIdentityEnv}).
   */
  public void inject(Pod pod, Set<String> secretNames, boolean podIdentity) {
    inject(pod, secretNames, podIdentity, null);
  }

  /** Workload annotation: {@code Kind/name} of the pod's controller ({@link WorkloadResolver}). */
  public static final String WORKLOAD_ANNOTATION = "tollgate.dev/workload";

  /** How the webhook knew the workload: {@code api}, {@code naming}, {@code ownerReference}... */
  public static final String WORKLOAD_SOURCE_ANNOTATION = "tollgate.dev/workload-source";

  /**
   * As {@link #inject(Pod, Set, boolean)}; the sidecar also learns the pod's {@code workload}
   * (null: none), which its reports name, and the pod is annotated with it.
   */
  public void inject(
      Pod pod,
      Set<String> secretNames,
      boolean podIdentity,
      dev.tollgate.sidecar.config.report.UsageReport.Workload workload) {
    PodSpec spec = pod.getSpec();
    Set<String> secrets = new TreeSet<>(secretNames);

    List<Volume> volumes = new ArrayList<>(nullToEmpty(spec.getVolumes()));
    volumes.add(configVolume());
    volumes.add(tokenVolume());
    if (settings.reportUrl() != null) {
      volumes.add(reportCaVolume());
    }
    volumes.add(
        new VolumeBuilder()
            .withName(SPOOL_VOLUME)
            .withNewEmptyDir()
            .withSizeLimit(new Quantity("16Mi"))
            .endEmptyDir()
            .build());
    secrets.forEach(name -> volumes.add(secretVolume(name)));
    spec.setVolumes(volumes);

    List<Container> initContainers = new ArrayList<>(nullToEmpty(spec.getInitContainers()));
    // First, so the proxy is ready before any other init container or app container needs it.
    Container sidecar = sidecar(secrets);
    if (workload != null) {
      List<EnvVar> env = new ArrayList<>(sidecar.getEnv());
      env.add(env("TOLLGATE_WORKLOAD_KIND", workload.kind()));
      env.add(env("TOLLGATE_WORKLOAD_NAME", workload.name()));
      if (workload.source() != null) {
        env.add(env("TOLLGATE_WORKLOAD_SOURCE", workload.source()));
      }
      sidecar.setEnv(env);
    }
    if (podIdentity) {
      CloudIdentityEnv.share(nullToEmpty(spec.getContainers()), sidecar);
    }
    initContainers.add(0, sidecar);
    spec.setInitContainers(initContainers);

    for (Container app : nullToEmpty(spec.getContainers())) {
      pointBaseUrlsAtSidecar(app);
    }

    Map<String, String> annotations = new LinkedHashMap<>(annotations(pod));
    annotations.put(InjectionSettings.INJECTED_ANNOTATION, "true");
    if (workload != null) {
      annotations.put(WORKLOAD_ANNOTATION, workload.key());
      if (workload.source() != null) {
        annotations.put(WORKLOAD_SOURCE_ANNOTATION, workload.source());
      }
    }
    pod.getMetadata().setAnnotations(annotations);
    Map<String, String> labels =
        new LinkedHashMap<>(
            pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels());
    labels.put(InjectionSettings.INJECTED_LABEL, "injected");
    pod.getMetadata().setLabels(labels);
  }

  // No preStop hook: the kubelet stops a native sidecar only after the app containers have exited,
  // and the sidecar's SIGTERM handler drains calls in flight and sends its final report. A preStop
  // hook would run at that same moment, so it could add nothing but a FailedPreStopHook event.
  // What the final report cannot deliver stays in the spool emptyDir for a restarted container.
  private Container sidecar(Set<String> secrets) {
    List<VolumeMount> mounts = new ArrayList<>();
    mounts.add(readOnlyMount(CONFIG_VOLUME, InjectionSettings.CONFIG_MOUNT));
    mounts.add(readOnlyMount(TOKEN_VOLUME, InjectionSettings.TOKEN_MOUNT));
    if (settings.reportUrl() != null) {
      mounts.add(readOnlyMount(REPORT_CA_VOLUME, InjectionSettings.REPORT_CA_MOUNT));
    }
    mounts.add(
        new VolumeMountBuilder()
            .withName(SPOOL_VOLUME)
            .withMountPath(InjectionSettings.SPOOL_MOUNT)
            .build());
    secrets.forEach(
        name ->
            mounts.add(readOnlyMount(SecretMounts.volumeName(name), SecretMounts.secretDir(name))));

    // Probes go to a listener on all interfaces (kubelet sends them to the pod IP); the proxy
    // port is loopback only, so it is neither declared nor probed.
    IntOrString port = new IntOrString(HEALTH_PORT_NAME);
    return new ContainerBuilder()
        .withName(InjectionSettings.CONTAINER_NAME)
        .withImage(settings.sidecarImage())
        .withImagePullPolicy(settings.imagePullPolicy())
        .withRestartPolicy("Always")
        .withEnv(sidecarEnv())
        .addNewPort()
        .withName(HEALTH_PORT_NAME)
        .withContainerPort(settings.healthPort())
        .withProtocol("TCP")
        .endPort()
        .withNewResources()
        .addToRequests("cpu", new Quantity(settings.cpuRequest()))
        .addToRequests("memory", new Quantity(settings.memoryRequest()))
        .addToLimits("memory", new Quantity(settings.memoryLimit()))
        .endResources()
        .withNewStartupProbe()
        .withNewHttpGet()
        .withPath("/healthz")
        .withPort(port)
        .endHttpGet()
        .withPeriodSeconds(1)
        .withFailureThreshold(30)
        .endStartupProbe()
        .withNewLivenessProbe()
        .withNewHttpGet()
        .withPath("/healthz")
        .withPort(port)
        .endHttpGet()
        .withPeriodSeconds(10)
        .endLivenessProbe()
        .withNewReadinessProbe()
        .withNewHttpGet()
        .withPath("/readyz")
        .withPort(port)
        .endHttpGet()
        .withPeriodSeconds(5)
        .endReadinessProbe()
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(65532L)
        .withAllowPrivilegeEscalation(false)
        .withReadOnlyRootFilesystem(true)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .withVolumeMounts(mounts)
        .build();
  }

  private List<EnvVar> sidecarEnv() {
    List<EnvVar> env = new ArrayList<>();
    env.add(env("TOLLGATE_CONFIG", InjectionSettings.CONFIG_MOUNT + "/" + SidecarConfigMap.KEY));
    env.add(env("TOLLGATE_PORT", Integer.toString(settings.port())));
    env.add(env(HealthSettings.PORT_ENV, Integer.toString(settings.healthPort())));
    if (settings.reportUrl() != null) {
      env.add(env("TOLLGATE_REPORT_URL", settings.reportUrl()));
      // mounted, not in the env: the sidecar re-reads the file, so a rotated CA reaches it
      env.add(
          env(
              "TOLLGATE_REPORT_CA_FILE",
              InjectionSettings.REPORT_CA_MOUNT + "/" + SidecarConfigMap.REPORT_CA_KEY));
    }
    env.add(env("TOLLGATE_TOKEN_FILE", InjectionSettings.TOKEN_MOUNT + "/token"));
    env.add(env("TOLLGATE_SPOOL_DIR", InjectionSettings.SPOOL_MOUNT));
    env.add(fieldRef("TOLLGATE_POD_NAME", "metadata.name"));
    env.add(fieldRef("TOLLGATE_POD_NAMESPACE", "metadata.namespace"));
    env.add(fieldRef("TOLLGATE_POD_UID", "metadata.uid"));
    env.add(fieldRef("TOLLGATE_SERVICE_ACCOUNT", "spec.serviceAccountName"));
    settings.sidecarEnv().forEach((k, v) -> env.add(env(k, v)));
    return env;
  }

  private void pointBaseUrlsAtSidecar(Container app) {
    List<EnvVar> env = new ArrayList<>(nullToEmpty(app.getEnv()));
    if (env.stream().noneMatch(e -> "OPENAI_BASE_URL".equals(e.getName()))) {
      env.add(env("OPENAI_BASE_URL", settings.openAiBaseUrl()));
    }
    if (env.stream().noneMatch(e -> "ANTHROPIC_BASE_URL".equals(e.getName()))) {
      env.add(env("ANTHROPIC_BASE_URL", settings.anthropicBaseUrl()));
    }
    app.setEnv(env);
  }

  private Volume configVolume() {
    // Optional: a pod may start before the operator has rendered the namespace's configuration;
    // the sidecar then reports not-ready until the file appears.
    return new VolumeBuilder()
        .withName(CONFIG_VOLUME)
        .withNewConfigMap()
        .withName(settings.configMapName())
        .withOptional(true)
        .endConfigMap()
        .build();
  }

  private static Volume reportCaVolume() {
    // Optional, like the configuration: written by the operator with it. Until it exists the
    // sidecar's reports wait (kept, not lost).
    return new VolumeBuilder()
        .withName(REPORT_CA_VOLUME)
        .withNewConfigMap()
        .withName(SidecarConfigMap.REPORT_CA_NAME)
        .withOptional(true)
        .endConfigMap()
        .build();
  }

  private static Volume tokenVolume() {
    return new VolumeBuilder()
        .withName(TOKEN_VOLUME)
        .withNewProjected()
        .addNewSource()
        .withNewServiceAccountToken()
        .withAudience(InjectionSettings.TOKEN_AUDIENCE)
        .withExpirationSeconds(TOKEN_EXPIRATION_SECONDS)
        .withPath("token")
        .endServiceAccountToken()
        .endSource()
        .endProjected()
        .build();
  }

  private static Volume secretVolume(String secretName) {
    return new VolumeBuilder()
        .withName(SecretMounts.volumeName(secretName))
        .withNewSecret()
        .withSecretName(secretName)
        .withOptional(true)
        .endSecret()
        .build();
  }

  private static VolumeMount readOnlyMount(String volume, String path) {
    return new VolumeMountBuilder().withName(volume).withMountPath(path).withReadOnly(true).build();
  }

  private static EnvVar env(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  private static EnvVar fieldRef(String name, String fieldPath) {
    return new EnvVarBuilder()
        .withName(name)
        .withNewValueFrom()
        .withNewFieldRef()
        .withFieldPath(fieldPath)
        .endFieldRef()
        .endValueFrom()
        .build();
  }

  private static boolean alreadyInjected(Pod pod) {
    return nullToEmpty(pod.getSpec().getInitContainers()).stream()
            .anyMatch(c -> InjectionSettings.CONTAINER_NAME.equals(c.getName()))
        || nullToEmpty(pod.getSpec().getContainers()).stream()
            .anyMatch(c -> InjectionSettings.CONTAINER_NAME.equals(c.getName()));
  }

  private static Map<String, String> labels(Pod pod) {
    if (pod.getMetadata() == null || pod.getMetadata().getLabels() == null) {
      return Map.of();
    }
    return pod.getMetadata().getLabels();
  }

  private static Map<String, String> annotations(Pod pod) {
    if (pod.getMetadata() == null || pod.getMetadata().getAnnotations() == null) {
      return Map.of();
    }
    return pod.getMetadata().getAnnotations();
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
