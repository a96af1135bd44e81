package dev.tollgate.sidecar.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * API keys read from the files mounted Secrets put them in. Files are read off the event loops (by
 * the configuration watcher) and kept in memory; the data path only looks them up. Key values are
 * never logged, only the file paths.
 */
public final class ApiKeyStore {
  private static final Logger LOG = LoggerFactory.getLogger(ApiKeyStore.class);

  private volatile Map<String, String> keys = Map.of();

  /**
   * The files whose problem was logged, and the problem: reloads run every couple of seconds, so a
   * missing file is reported once, and again only when its problem changes or after it was fixed.
   */
  private final Map<String, String> reported = new HashMap<>();

  /** The key in {@code path}, or null when the file was missing or empty at the last reload. */
  public String get(String path) {
    return path == null ? null : keys.get(path);
  }

  /** Re-reads every file; returns whether any key changed. */
  public synchronized boolean reload(Collection<String> paths) {
    Map<String, String> next = new HashMap<>();
    for (String p : paths) {
      if (p == null) {
        continue;
      }
      try {
        String key = Files.readString(Path.of(p), StandardCharsets.UTF_8).strip();
        if (key.isEmpty()) {
          warnOnce(p, "API key file " + p + " is empty; calls through its credential will fail");
        } else {
          next.put(p, key);
          if (reported.remove(p) != null) {
            LOG.info("API key file {} is readable again", p);
          }
        }
      } catch (IOException e) {
        warnOnce(
            p,
            "cannot read API key file "
                + p
                + ": "
                + e
                + "; calls through its credential will fail");
      }
    }
    reported.keySet().retainAll(new HashSet<>(paths));
    boolean changed = !next.equals(keys);
    if (changed) {
      LOG.info("API keys loaded from {} file(s)", next.size());
    }
    keys = Map.copyOf(next);
    return changed;
  }

  private void warnOnce(String path, String problem) {
    if (!problem.equals(reported.put(path, problem))) {
      LOG.warn(problem);
    }
  }
}
