package dev.tollgate.sidecar.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigWatcherTest {
  @TempDir Path dir;

  private boolean relevantAfter(WatchService ws, Set<Path> files, String written) throws Exception {
    Files.writeString(dir.resolve(written), "x");
    WatchKey key = ws.poll(5, TimeUnit.SECONDS);
    assertThat(key).as("an event for %s", written).isNotNull();
    Thread.sleep(50);
    boolean relevant = ConfigWatcher.relevant(key, files);
    WatchKey more;
    while ((more = ws.poll()) != null) {
      relevant |= ConfigWatcher.relevant(more, files);
    }
    return relevant;
  }

  @Test
  void onlyTheFilesReadAndKubernetesSymlinkSwapsCount() throws Exception {
    Set<Path> files = Set.of(dir.resolve("config.yaml").toAbsolutePath().normalize());
    try (WatchService ws = FileSystems.getDefault().newWatchService()) {
      dir.register(
          ws,
          StandardWatchEventKinds.ENTRY_CREATE,
          StandardWatchEventKinds.ENTRY_MODIFY,
          StandardWatchEventKinds.ENTRY_DELETE);
      // the bench's log file next to the configuration: written all the time, never read
      assertThat(relevantAfter(ws, files, "sidecar.log")).isFalse();
      assertThat(relevantAfter(ws, files, "config.yaml")).isTrue();
      assertThat(relevantAfter(ws, files, "..data_tmp")).isTrue();
    }
  }
}
