package dev.tollgate.sidecar.runtime;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the configuration and the API keys when their files change. Kubernetes updates a mounted
 * ConfigMap or Secret by swapping a {@code ..data} symlink in the directory, which file-level
 * watches miss, so this watches the directories and re-reads on an event for a file it reads or for
 * Kubernetes' {@code ..data} swap (names starting with {@code ..}); other files in the directory (a
 * log file, say) are ignored: reloading on their every write cost ~10% of the sidecar's CPU (issue
 * #24). It also re-reads every {@code pollInterval} in case an event was lost (some file systems
 * report none).
 */
public final class ConfigWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

  private final ConfigSource source;
  private final Duration pollInterval;
  private final Thread thread;
  private volatile boolean running = true;

  public ConfigWatcher(ConfigSource source, Duration pollInterval) {
    this.source = source;
    this.pollInterval = pollInterval;
    this.thread = new Thread(this::run, "tollgate-config-watcher");
    thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  private void run() {
    try (WatchService ws = FileSystems.getDefault().newWatchService()) {
      Set<Path> watched = new HashSet<>();
      long lastReload = System.nanoTime();
      while (running) {
        for (Path dir : source.watchedDirectories()) {
          if (dir != null && watched.add(dir)) {
            try {
              dir.register(
                  ws,
                  StandardWatchEventKinds.ENTRY_CREATE,
                  StandardWatchEventKinds.ENTRY_MODIFY,
                  StandardWatchEventKinds.ENTRY_DELETE);
            } catch (IOException e) {
              LOG.warn("cannot watch {}: {}; relying on polling", dir, e.toString());
            }
          }
        }
        long waitNanos = pollInterval.toNanos() - (System.nanoTime() - lastReload);
        WatchKey key = waitNanos <= 0 ? null : ws.poll(waitNanos, TimeUnit.NANOSECONDS);
        if (key != null) {
          Set<Path> files = source.watchedFiles();
          boolean relevant = relevant(key, files);
          if (relevant) {
            // a ConfigMap update is several events (tmp dir, symlink swap): let them settle
            Thread.sleep(50);
          }
          WatchKey more;
          while ((more = ws.poll()) != null) {
            relevant |= relevant(more, files);
          }
          if (!relevant && System.nanoTime() - lastReload < pollInterval.toNanos()) {
            continue;
          }
        }
        source.reload();
        lastReload = System.nanoTime();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      LOG.error("configuration watcher stopped: {}", e.toString(), e);
    }
  }

  /** Takes the key's events and resets it; true if one is for a file read or a {@code ..} entry. */
  static boolean relevant(WatchKey key, Set<Path> files) {
    boolean relevant = false;
    Path dir = key.watchable() instanceof Path p ? p : null;
    for (WatchEvent<?> e : key.pollEvents()) {
      if (e.kind() == StandardWatchEventKinds.OVERFLOW
          || !(e.context() instanceof Path name)
          || dir == null
          || name.toString().startsWith("..")
          || files.contains(dir.resolve(name).toAbsolutePath().normalize())) {
        relevant = true;
      }
    }
    key.reset();
    return relevant;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
