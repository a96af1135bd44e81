package dev.tollgate.sidecar.runtime;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.SidecarConfigException;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration in force. A new file replaces it only when it parses and validates; otherwise
 * the last good configuration stays and the problems are logged. Calls read {@link #current()} once
 * at their start, so a reload never changes a call in flight.
 */
public final class ConfigSource {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigSource.class);

  private final Path file;
  private final ApiKeyStore keys;
  private final ProxyMetrics metrics;
  private volatile SidecarConfig current;
  private String lastText;
  private volatile java.util.function.Consumer<SidecarConfig> onApplied = c -> {};

  /** Runs {@code action} on the watcher thread with each configuration before it takes effect. */
  public void onApplied(java.util.function.Consumer<SidecarConfig> action) {
    this.onApplied = action;
    SidecarConfig c = current;
    if (c != null) {
      action.accept(c);
    }
  }

  public ConfigSource(Path file, ApiKeyStore keys, ProxyMetrics metrics) {
    this.file = file;
    this.keys = keys;
    this.metrics = metrics;
  }

  /** The configuration in force, or null before the first valid one. */
  public SidecarConfig current() {
    return current;
  }

  public ApiKeyStore keys() {
    return keys;
  }

  public Path file() {
    return file;
  }

  /**
   * Re-reads the file and the key files. Called by the watcher thread, never on an event loop.
   *
   * @return true when a new configuration was applied
   */
  public synchronized boolean reload() {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      if (lastText != null || current == null) {
        LOG.warn(
            "cannot read configuration file {}: {}; keeping the configuration in force",
            file,
            e.toString());
      }
      lastText = null;
      reloadKeys();
      return false;
    }
    if (Objects.equals(text, lastText)) {
      reloadKeys();
      return false;
    }
    lastText = text;
    return apply(text, "file " + file);
  }

  /**
   * Applies a configuration fetched from the operator because the mounted file is stale: the same
   * checks and effects as a reload of the file. The file is still watched; when the kubelet updates
   * it, it is applied as usual.
   *
   * @return true when it was applied
   */
  public synchronized boolean applyFetched(String text) {
    return apply(fetchedText.apply(text), "the operator (GET /v1/config)");
  }

  private volatile java.util.function.UnaryOperator<String> fetchedText = t -> t;

  /**
   * Rewrites fetched configurations before they apply (local mode and tests, whose key files are
   * not at the mount paths the operator renders).
   */
  public void rewriteFetched(java.util.function.UnaryOperator<String> rewrite) {
    this.fetchedText = rewrite;
  }

  private boolean apply(String text, String origin) {
    SidecarConfig next;
    try {
      next = SidecarConfigCodec.read(text);
    } catch (SidecarConfigException e) {
      metrics.configReload(false);
      LOG.error(
          "rejected configuration from {}: {}{}",
          origin,
          e.problems(),
          current == null
              ? "; not ready until a valid configuration arrives"
              : "; keeping version " + current.version());
      return false;
    }
    List<String> unknown = SidecarConfigCodec.unknownFields(text);
    if (!unknown.isEmpty()) {
      LOG.warn(
          "configuration from {} has fields this sidecar does not know, ignored: {} (a typo, or a newer operator)",
          origin,
          unknown);
    }
    SidecarConfig previous = current;
    if (previous != null
        && (!previous.server().port().equals(next.server().port())
            || !previous.server().bindAddress().equals(next.server().bindAddress()))) {
      LOG.warn(
          "server.port/bindAddress changed to {}:{}; the listener keeps its address until the sidecar restarts",
          next.server().bindAddress(),
          next.server().port());
    }
    onApplied.accept(next);
    current = next;
    reloadKeys();
    metrics.configReload(true);
    LOG.info(
        "applied configuration version {} for namespace {} from {}: {} route(s), {} credential(s)",
        next.version(),
        next.namespace(),
        origin,
        next.routes().size(),
        next.credentials().size());
    return true;
  }

  private volatile java.util.function.Consumer<SidecarConfig> onPoll = c -> {};

  /** Runs {@code action} on the watcher thread after every look at the key files. */
  public void onPoll(java.util.function.Consumer<SidecarConfig> action) {
    this.onPoll = action;
    SidecarConfig c = current;
    if (c != null) {
      action.accept(c);
    }
  }

  private void reloadKeys() {
    SidecarConfig c = current;
    if (c != null) {
      onPoll.accept(c);
      List<String> paths =
          c.credentials().stream()
              .map(CredentialConfig::apiKeyFile)
              .filter(Objects::nonNull)
              .toList();
      keys.reload(paths);
    }
  }

  /** Directories worth watching: the configuration's and every key file's. */
  public List<Path> watchedDirectories() {
    SidecarConfig c = current;
    java.util.Set<Path> dirs = new java.util.LinkedHashSet<>();
    dirs.add(file.toAbsolutePath().getParent());
    if (c != null) {
      for (CredentialConfig cred : c.credentials()) {
        if (cred.apiKeyFile() != null) {
          Path parent = Path.of(cred.apiKeyFile()).getParent();
          if (parent != null && Files.isDirectory(parent)) {
            dirs.add(parent);
          }
        }
      }
    }
    return List.copyOf(dirs);
  }
}
