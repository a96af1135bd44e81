package dev.tollgate.operator.render;

import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this operator rendered for each namespace, kept in memory: the reference the report channel
 * announces (its hash in every reply) and serves ({@code GET /v1/config}). The ConfigMap in the
 * tenant's namespace is only a copy for the kubelet to mount; anyone with {@code edit} there can
 * change it, so nothing that vouches for the configuration is ever read back from it. Filled by
 * {@link SidecarConfigSync} on every sync; empty for a namespace this process has not synced yet (a
 * new leader before its first reconciles), which announces nothing.
 */
public final class RenderedConfigs {
  /**
   * One namespace's rendered configuration.
   *
   * @param text the canonical YAML, byte for byte what the ConfigMap holds
   * @param version the short content hash ({@link SidecarConfig#version()})
   * @param sha256 SHA-256 of {@code text} in hex ({@link SidecarConfigCodec#sha256(String)})
   */
  public record Rendered(String text, String version, String sha256) {
    static Rendered of(SidecarConfig config) {
      String text = SidecarConfigCodec.write(config);
      return new Rendered(text, config.version(), SidecarConfigCodec.sha256(text));
    }
  }

  private final Map<String, Rendered> byNamespace = new ConcurrentHashMap<>();

  /** The namespace's rendered configuration, or empty when it has none (or none synced yet). */
  public Optional<Rendered> get(String namespace) {
    return Optional.ofNullable(byNamespace.get(namespace));
  }

  /** Namespaces with a rendered configuration. */
  public Set<String> namespaces() {
    return Set.copyOf(byNamespace.keySet());
  }

  void put(String namespace, SidecarConfig config) {
    byNamespace.put(namespace, Rendered.of(config));
  }

  void remove(String namespace) {
    byNamespace.remove(namespace);
  }
}
