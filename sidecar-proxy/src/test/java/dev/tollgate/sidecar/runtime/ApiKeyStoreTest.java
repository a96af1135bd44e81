package dev.tollgate.sidecar.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class ApiKeyStoreTest {
  @TempDir Path dir;

  @Test
  void aMissingKeyFileIsReportedOnceNotAtEveryReload() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(ApiKeyStore.class);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    logger.addAppender(log);
    try {
      ApiKeyStore store = new ApiKeyStore();
      String missing = dir.resolve("openai.key").toString();
      for (int i = 0; i < 5; i++) {
        store.reload(List.of(missing));
      }
      assertThat(log.list.stream().filter(e -> e.getLevel() == Level.WARN)).hasSize(1);

      Files.writeString(Path.of(missing), "sk-1");
      store.reload(List.of(missing));
      assertThat(store.get(missing)).isEqualTo("sk-1");
      Files.delete(Path.of(missing));
      store.reload(List.of(missing));
      assertThat(log.list.stream().filter(e -> e.getLevel() == Level.WARN))
          .as("broken again after it was fixed: said again")
          .hasSize(2);
    } finally {
      logger.detachAppender(log);
    }
  }
}
