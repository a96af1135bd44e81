package dev.tollgate.sidecar.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.it.RedisServer;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * serveStaleOnError through a shared, real redis-server: an answer one pod cached is kept in Redis
 * past its ttl, a second pod (nothing in its memory) does not replay it as a hit once it is past
 * its ttl but serves it stale, and not past its maximum age.
 */
class RedisStaleAnswerIT {
  private static RedisServer redis;
  private static Path passwordFile;
  private static byte[] key;
  private final AtomicLong wallMillis = new AtomicLong(1_764_000_000_000L);
  private final AtomicLong nanos = new AtomicLong(0);

  @BeforeAll
  static void start() throws Exception {
    redis = RedisServer.start("pw");
    passwordFile = Files.writeString(redis.dir.resolve("password"), "pw");
    key = new byte[32];
    new SecureRandom().nextBytes(key);
  }

  @AfterAll
  static void stop() throws Exception {
    redis.close();
  }

  private RouteAnswerCache pod(RedisAnswerStore store, RouteConfig.ResponseCache rc) {
    return new RouteAnswerCache(
        rc,
        new LocalAnswerCache(rc.ttl(), rc.retention(), 100, 1 << 20, nanos::get, Runnable::run),
        store,
        new RedisEntrySeal(key),
        "tollgate:rc:test:",
        wallMillis::get);
  }

  private static CachedAnswer answer() {
    return new CachedAnswer(
        new ChatResponse(
            "r1",
            "gpt-4o-mini",
            List.of(new ChatRequest.Text("Use the reset link.")),
            FinishReason.STOP,
            new Usage(12, 5, 0, 0)),
        "main",
        "openai",
        "openai",
        "gpt-4o-mini",
        new BigDecimal("0.000123"));
  }

  @Test
  void aSecondPodServesAnotherPodsAnswerStaleUntilItsMaxAge() throws Exception {
    RouteConfig.ResponseCache rc =
        new RouteConfig.ResponseCache(
            true,
            Duration.ofSeconds(1),
            null,
            null,
            null,
            RouteConfig.CacheBackend.REDIS,
            new RouteConfig.Redis(redis.url(), passwordFile.toString()),
            null,
            new RouteConfig.StaleOnError(true, Duration.ofHours(1)));
    RedisAnswerStore store = new RedisAnswerStore(redis.url(), passwordFile.toString(), op -> {});
    try {
      pod(store, rc).put("q", answer());
      // real time passes the 1 s ttl: Redis must have kept the entry for the maximum age
      Thread.sleep(1_300);
      wallMillis.addAndGet(1_300);
      RouteAnswerCache second = pod(store, rc);
      assertThat(second.get("q").get(2, TimeUnit.SECONDS)).as("past the ttl: no hit").isNull();
      assertThat(second.getStale("q").get(2, TimeUnit.SECONDS)).isEqualTo(answer());

      wallMillis.addAndGet(Duration.ofHours(1).toMillis());
      RouteAnswerCache third = pod(store, rc);
      assertThat(third.getStale("q").get(2, TimeUnit.SECONDS)).as("past the maximum age").isNull();
    } finally {
      store.close();
    }
  }
}
