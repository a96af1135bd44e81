package dev.tollgate.local;

import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.SecretKeyRef;
import dev.tollgate.sidecar.config.SecretMounts;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * What the kubelet gives a sidecar, done in this process: the Secrets' keys as files, and the
 * sidecar configuration the operator renders into a ConfigMap as a file kept in step with it. Both
 * live in the run's work directory instead of the paths a pod mounts.
 */
final class PodMounts implements AutoCloseable {
  private static final Map<String, String> KEY_VARIABLES =
      Map.of(
          "openai", "OPENAI_API_KEY",
          "anthropic", "ANTHROPIC_API_KEY",
          "groq", "GROQ_API_KEY",
          "gemini", "GEMINI_API_KEY",
          "mistral", "MISTRAL_API_KEY",
          "cohere", "COHERE_API_KEY",
          "azure-openai", "AZURE_OPENAI_API_KEY",
          "bedrock", "AWS_BEARER_TOKEN_BEDROCK",
          "openai-compatible", "OPENAI_COMPATIBLE_API_KEY");

  private final NamespacedKubernetesClient client;
  private final Path workDir;
  private final ScheduledExecutorService projector =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "tollgate-local-projector");
            t.setDaemon(true);
            return t;
          });

  PodMounts(NamespacedKubernetesClient client, Path workDir) {
    this.client = client;
    this.workDir = workDir;
  }

  /**
   * Creates the Secrets the example's credentials name (a placeholder key for the simulators, the
   * key from the environment with {@code realProviders}) and writes each key where a mounted Secret
   * has it.
   */
  void createSecrets(Example example, boolean realProviders) throws IOException {
    Path root = workDir.resolve("secrets");
    for (ProviderCredential credential : example.credentials()) {
      SecretKeyRef ref = credential.getSpec().getSecretRef();
      if (ref == null) {
        continue;
      }
      String value = "sk-tollgate-local-simulated";
      if (realProviders) {
        String variable = KEY_VARIABLES.get(credential.getSpec().getProvider().wireName());
        value = variable == null ? null : System.getenv(variable);
        if (value == null || value.isBlank()) {
          throw new LocalModeException(
              "--real-providers: set "
                  + (variable == null ? "a key" : variable)
                  + " for ProviderCredential "
                  + credential.getMetadata().getName());
        }
      }
      String namespace = credential.getMetadata().getNamespace();
      client
          .secrets()
          .inNamespace(namespace)
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withName(ref.getName())
                  .withNamespace(namespace)
                  .endMetadata()
                  .addToData(
                      ref.getKey(),
                      Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)))
                  .build())
          .createOr(r -> r.update());
      // What the kubelet does with a mounted Secret: one file per key.
      Path file = Path.of(SecretMounts.keyFile(root.toString(), ref.getName(), ref.getKey()));
      Files.createDirectories(file.getParent());
      Files.writeString(file, value);
    }
  }

  /** Waits for the rendered ConfigMap and keeps a file in step with it, as the kubelet does. */
  Path projectConfigMap(String namespace, Supplier<String> conditions) throws Exception {
    Path file = workDir.resolve("config").resolve(SidecarConfigMap.KEY);
    Files.createDirectories(file.getParent());
    Instant deadline = Instant.now().plusSeconds(30);
    ConfigMap configMap;
    while ((configMap = configMap(namespace)) == null) {
      if (Instant.now().isAfter(deadline)) {
        throw new LocalModeException(
            "the operator rendered no configuration for namespace "
                + namespace
                + " within 30s; the resources' conditions say why:\n"
                + conditions.get());
      }
      Thread.sleep(100);
    }
    Files.writeString(file, projected(configMap));
    projector.scheduleWithFixedDelay(
        () -> {
          ConfigMap current = configMap(namespace);
          if (current != null) {
            try {
              String yaml = projected(current);
              if (!yaml.equals(Files.readString(file))) {
                Path tmp = file.resolveSibling(SidecarConfigMap.KEY + ".tmp");
                Files.writeString(tmp, yaml);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
              }
            } catch (IOException e) {
              // Next round tries again; the sidecars keep their last good configuration.
            }
          }
        },
        500,
        500,
        TimeUnit.MILLISECONDS);
    return file;
  }

  /**
   * The configuration as this process's stand-in for the kubelet mounts it: the ConfigMap's text
   * byte for byte (the sidecars check its hash against the operator's). The Secrets are under
   * {@link #secretsRoot()}, which the sidecars are told, not under {@link SecretMounts#ROOT}.
   */
  private static String projected(ConfigMap configMap) {
    return configMap.getData().get(SidecarConfigMap.KEY);
  }

  /** Where the Secrets' keys are, in place of {@link SecretMounts#ROOT}. */
  Path secretsRoot() {
    return workDir.resolve("secrets");
  }

  private ConfigMap configMap(String namespace) {
    ConfigMap cm = client.configMaps().inNamespace(namespace).withName(SidecarConfigMap.NAME).get();
    return cm == null || cm.getData() == null || !cm.getData().containsKey(SidecarConfigMap.KEY)
        ? null
        : cm;
  }

  @Override
  public void close() {
    projector.shutdownNow();
  }
}
