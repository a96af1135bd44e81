package dev.tollgate.sidecar.runtime;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.SecretMounts;
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
 *
 * <p>Integrity: the mounted file is a ConfigMap in the tenant's namespace, which anyone with {@code
 * edit} there can change. Once the operator has announced the SHA-256 of the configuration it
 * rendered ({@link #announce}, from each report reply), a file whose text hashes to anything else
 * is never applied; the sidecar runs the operator's copy ({@link #applyFetched}), which must hash
 * to the announced value. Before the first announcement (operator not reached yet) the file is run
 * as it is.
 */
public final class ConfigSource {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigSource.class);

  private final Path file;
  private final ApiKeyStore keys;
  private final ProxyMetrics metrics;
  private volatile SidecarConfig current;
  private String lastText;
  private volatile Path secretsRoot;

  // Integrity, guarded by this. The hashes are of the text as read or fetched, before the secrets
  // root is applied, so they compare with the operator's.
  private String runningSha256; // of the configuration in force
  private boolean runningVerified; // the operator announced runningSha256, or sent it checked
  private String announced; // the last hash the operator announced; null: none yet
  private String heldText; // a mounted file not applied because it differs from the announced hash
  private String heldSha256;
  private String warnedSha256; // the last differing hash warned about: one WARN per change
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
   * Reads the Secrets that the configuration names under {@link SecretMounts#ROOT} from {@code
   * root} instead (tests and local mode, which cannot mount there). Applied after the integrity
   * check, so hashes still compare with the operator's text. Set before the first {@link #reload}.
   */
  public void secretsRoot(Path root) {
    this.secretsRoot = root;
  }

  private String localized(String text) {
    Path root = secretsRoot;
    return root == null ? text : text.replace(SecretMounts.ROOT + "/", root + "/");
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
    String sha = SidecarConfigCodec.sha256(text);
    if (sha.equals(runningSha256)) {
      heldText = null;
      heldSha256 = null;
      reloadKeys();
      return false;
    }
    if (announced != null && !announced.equals(sha)) {
      // The operator renders a new version and the kubelet may deliver it before the reply that
      // announces it: hold the file until the next announcement decides (see announce).
      heldText = text;
      heldSha256 = sha;
      LOG.debug("mounted configuration {} is not the announced one; held", shortHash(sha));
      reloadKeys();
      return false;
    }
    boolean applied = apply(localized(text), "file " + file);
    if (applied) {
      runningSha256 = sha;
      runningVerified = sha.equals(announced);
    }
    return applied;
  }

  /** What a report reply's configuration hash means for the configuration in force. */
  public enum Announcement {
    /** The configuration in force is the one announced. */
    IN_STEP,
    /**
     * The configuration in force was verified once but the operator rendered a newer one (the
     * kubelet has not updated the mount yet): fetch it after the grace period.
     */
    STALE,
    /**
     * The configuration in force was never verified and is not the one announced (the mounted file
     * ran before the first reply, or none is in force): fetch the operator's copy now.
     */
    UNVERIFIED
  }

  /**
   * Takes the SHA-256 the operator announced for this namespace's configuration (every report
   * reply). From now on a mounted file that hashes to anything else is not applied. A file held
   * back since the previous announcement is applied if it is the announced one, and otherwise
   * refused with one WARN per change and {@code tollgate_config_integrity_failures_total}. Called
   * on the reporter's thread.
   */
  public synchronized Announcement announce(String sha256) {
    announced = sha256;
    if (heldText != null) {
      if (heldSha256.equals(sha256)) {
        String text = heldText;
        heldText = null;
        heldSha256 = null;
        if (apply(localized(text), "file " + file)) {
          runningSha256 = sha256;
          runningVerified = true;
        }
      } else {
        integrityFailure(heldSha256, "refusing it");
      }
    }
    if (sha256.equals(runningSha256)) {
      runningVerified = true;
      return Announcement.IN_STEP;
    }
    if (runningVerified) {
      return Announcement.STALE;
    }
    if (current != null && runningSha256 != null) {
      integrityFailure(runningSha256, "replacing it with the operator's copy");
    }
    return Announcement.UNVERIFIED;
  }

  private void integrityFailure(String sha, String action) {
    if (sha.equals(warnedSha256)) {
      return;
    }
    warnedSha256 = sha;
    metrics.configIntegrityFailure();
    SidecarConfig c = current;
    LOG.warn(
        "namespace {}: the mounted ConfigMap {} differs from what the operator rendered (sha256 {}"
            + " instead of {}): it was edited in the namespace, or is out of date; {}, running {}",
        c == null ? "?" : c.namespace(),
        file,
        shortHash(sha),
        shortHash(announced),
        action,
        c == null ? "no configuration yet" : "version " + c.version());
  }

  private static String shortHash(String sha) {
    return sha == null ? "none" : sha.substring(0, Math.min(16, sha.length())) + "…";
  }

  /**
   * Applies a configuration fetched from the operator because the mounted file is stale or differs
   * from the operator's: the same checks and effects as a reload of the file, after checking that
   * the text hashes to {@code expectedSha256}, the value the operator's reply announced (null: the
   * operator announces no hash, as older ones do; the text is applied unchecked). The file is still
   * watched; it is applied again only when it is the announced one.
   *
   * @return true when it was applied
   */
  public synchronized boolean applyFetched(String text, String expectedSha256) {
    String sha = SidecarConfigCodec.sha256(text);
    if (expectedSha256 != null && !expectedSha256.equals(sha)) {
      metrics.configReload(false);
      LOG.error(
          "the configuration fetched from the operator hashes to {}, not to the {} its reply"
              + " announced; not applied (tried again with the next reply)",
          shortHash(sha),
          shortHash(expectedSha256));
      return false;
    }
    boolean applied = apply(localized(text), "the operator (GET /v1/config)");
    if (applied) {
      runningSha256 = sha;
      runningVerified = expectedSha256 != null;
    }
    return applied;
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

  /** The files this source reads (the configuration and the API key files), absolute. */
  public java.util.Set<Path> watchedFiles() {
    SidecarConfig c = current;
    java.util.Set<Path> files = new java.util.HashSet<>();
    files.add(file.toAbsolutePath().normalize());
    if (c != null) {
      for (CredentialConfig cred : c.credentials()) {
        if (cred.apiKeyFile() != null) {
          files.add(Path.of(cred.apiKeyFile()).toAbsolutePath().normalize());
        }
      }
    }
    return files;
  }
}
