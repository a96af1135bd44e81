package dev.tollgate.sidecar.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.it.RedisServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Redis store against a real redis-server: reads and writes, and a wrong password. */
class RedisAnswerStoreIT {
  private static RedisServer redis;
  private static Path right;
  private static Path wrong;

  @BeforeAll
  static void start() throws Exception {
    redis = RedisServer.start("right-pw");
    right = Files.writeString(redis.dir.resolve("right"), "right-pw\n");
    wrong = Files.writeString(redis.dir.resolve("wrong"), "wrong-pw");
  }

  @AfterAll
  static void stop() throws Exception {
    redis.close();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void writesAreReadBack() {
    List<String> errors = new CopyOnWriteArrayList<>();
    RedisAnswerStore store = new RedisAnswerStore(redis.url(), right.toString(), errors::add);
    try {
      assertThat(store.get(bytes("k1")).join()).isNull();
      store.set(bytes("k1"), bytes("answer"), Duration.ofMinutes(1));
      // the write is in the background; a read on the same connection comes after it
      assertThat(store.get(bytes("k1")).join()).isEqualTo(bytes("answer"));
      assertThat(errors).isEmpty();
    } finally {
      store.close();
    }
  }

  @Test
  void aWrongPasswordReadsAsAMissAndIsCounted() {
    List<String> errors = new CopyOnWriteArrayList<>();
    RedisAnswerStore store = new RedisAnswerStore(redis.url(), wrong.toString(), errors::add);
    try {
      assertThat(store.get(bytes("k1")).join()).isNull();
      store.set(bytes("k2"), bytes("answer"), Duration.ofMinutes(1));
      assertThat(store.get(bytes("k2")).join()).isNull();
      // the failed connection is counted on Lettuce's thread, possibly after the miss was answered
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(errors).contains("connect", "get"));
    } finally {
      store.close();
    }
  }
}
