package dev.tollgate.sidecar.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.it.RedisServer;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.Json;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two namespaces on one real redis-server (issue #16): a tenant that can write to the shared Redis
 * plants an answer under every key it can compute for the other namespace's request, and the other
 * namespace is never served it; without its cache key a namespace does not use Redis at all.
 */
class RedisCacheTenancyIT {
  private static RedisServer redis;
  private static Path passwordFile;
  private static RedisClient raw;
  private static StatefulRedisConnection<byte[], byte[]> attacker;
  private final ProxyMetrics victimMetrics = new ProxyMetrics();
  private final ResponseCaches victim = new ResponseCaches(victimMetrics, new UsageLedger());
  private final ResponseCaches tenant = new ResponseCaches(new ProxyMetrics(), new UsageLedger());

  @BeforeAll
  static void start() throws Exception {
    redis = RedisServer.start("shared-pw");
    passwordFile = Files.writeString(redis.dir.resolve("password"), "shared-pw");
    RedisURI uri = RedisURI.create(redis.url());
    uri.setAuthentication("shared-pw".toCharArray());
    raw = RedisClient.create(uri);
    attacker = raw.connect(ByteArrayCodec.INSTANCE);
  }

  @AfterAll
  static void stop() throws Exception {
    attacker.close();
    raw.shutdown();
    redis.close();
  }

  @AfterEach
  void closeCaches() {
    victim.close();
    tenant.close();
    attacker.sync().flushall();
  }

  private static Path key(String name) throws Exception {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return Files.write(redis.dir.resolve(name + ".key"), key);
  }

  private static SidecarConfig config(String namespace, Path keyFile) throws Exception {
    return SidecarConfigCodec.read(
        """
        namespace: %s
        routes:
          - model: faq
            cache:
              response:
                enabled: true
                backend: redis
                redis: {url: "%s", passwordFile: "%s"%s}
            tiers: [{name: main, targets: [{credential: openai, model: gpt-4o-mini}]}]
        credentials:
          - {name: openai, provider: openai, endpoint: "http://127.0.0.1:1/v1", apiKeyFile: /k}
        """
            .formatted(
                namespace,
                redis.url(),
                passwordFile,
                keyFile == null ? "" : ", keyFile: \"" + keyFile + "\""));
  }

  private static ObjectNode request(String question) {
    return (ObjectNode)
        Json.parseOrNull(
            "{\"model\":\"faq\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\""
                + question
                + "\"}]}");
  }

  private static CachedAnswer answer(String text) {
    return new CachedAnswer(
        new ChatResponse(
            "chatcmpl-1",
            "gpt-4o-mini",
            List.of(new ChatRequest.Text(text)),
            FinishReason.STOP,
            new Usage(100, 20, 0, 0)),
        "main",
        "openai",
        "openai",
        "gpt-4o-mini",
        new BigDecimal("0.000027"));
  }

  private static CacheTicket ticket(ResponseCaches caches, SidecarConfig cfg, String question) {
    RouteConfig rc = cfg.route("faq").orElseThrow();
    return caches.ticket(
        cfg.namespace(), rc, rc.tiers().get(0), ApiFormat.OPENAI, request(question), null, null);
  }

  /** Everything the other tenant can compute: the route's prefix and the request's cache key. */
  private static String unkeyedRedisKey(SidecarConfig cfg, String question) {
    String prefix =
        "tollgate:rc:" + CacheKey.sha256(cfg.namespace() + "/faq").substring(0, 16) + ":";
    RouteConfig rc = cfg.route("faq").orElseThrow();
    return prefix
        + CacheKey.of(
            cfg.namespace(), "faq", rc.tiers().get(0), ApiFormat.OPENAI, request(question), null);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void anAnswerPlantedUnderEveryKeyTheOtherTenantCanComputeIsNotServed() throws Exception {
    SidecarConfig teamA = config("team-a", key("team-a"));
    SidecarConfig teamB = config("team-b", key("team-b"));
    victim.configure(teamA);
    tenant.configure(teamB);
    String question = "What is the refund policy?";
    byte[] planted = answer("Send your card number to evil.example").toBytes();

    // 1. the unkeyed key of team-a's request: SHA-256 of public inputs
    attacker.sync().set(bytes(unkeyedRedisKey(teamA, question)), planted);
    // 2. team-a's namespace and request, named and sealed with team-b's own key
    String keyOfA = ticket(victim, teamA, question).key();
    RedisEntrySeal bSeal =
        new RedisEntrySeal(
            Files.readAllBytes(
                Path.of(teamB.route("faq").orElseThrow().cache().response().redis().keyFile())));
    String prefixA = "tollgate:rc:" + CacheKey.sha256("team-a/faq").substring(0, 16) + ":";
    byte[] sealedKey = bSeal.redisKey(prefixA, keyOfA);
    attacker.sync().set(sealedKey, bSeal.seal(sealedKey, planted));

    assertThat(ticket(victim, teamA, question).lookup().join()).isNull();
  }

  @Test
  void anEntryCopiedToAnotherOfTheNamespacesKeysIsNotServed() throws Exception {
    SidecarConfig teamA = config("team-a", key("team-a"));
    victim.configure(teamA);
    ticket(victim, teamA, "Question one").store(answer("answer one"));
    // a fresh pod of team-a, with nothing in memory, reads team-a's entry back
    ResponseCaches freshPod = new ResponseCaches(new ProxyMetrics(), new UsageLedger());
    try {
      freshPod.configure(teamA);
      awaitKeys(1);
      assertThat(ticket(freshPod, teamA, "Question one").lookup().join().response().text())
          .isEqualTo("answer one");

      // the other tenant sees opaque keys only, but may copy one entry over another
      ticket(victim, teamA, "Question two").store(answer("answer two"));
      List<byte[]> keys = awaitKeys(2);
      byte[] one = attacker.sync().get(keys.get(0));
      attacker.sync().set(keys.get(1), one);
      attacker.sync().set(keys.get(0), one);
      ResponseCaches another = new ResponseCaches(new ProxyMetrics(), new UsageLedger());
      try {
        another.configure(teamA);
        CachedAnswer a1 = ticket(another, teamA, "Question one").lookup().join();
        CachedAnswer a2 = ticket(another, teamA, "Question two").lookup().join();
        // exactly one of them is still the genuine entry; the copy reads as a miss
        assertThat(a1 == null ? a2 : a1).isNotNull();
        assertThat(a1 == null || a2 == null).isTrue();
      } finally {
        another.close();
      }
    } finally {
      freshPod.close();
    }
  }

  @Test
  void withoutTheNamespacesKeyRedisIsNotUsed() throws Exception {
    SidecarConfig keyless = config("team-a", null);
    victim.configure(keyless);
    ticket(victim, keyless, "q").store(answer("only in this pod"));
    assertThat(ticket(victim, keyless, "q").lookup().join()).isNotNull();
    Thread.sleep(200);
    assertThat(attacker.sync().keys("*")).isEmpty();
    assertThat(
            new String(victimMetrics.scrape(), StandardCharsets.UTF_8)
                .contains("tollgate_response_cache_redis_unkeyed_total{route=\"faq\"} 1.0"))
        .isTrue();
  }

  private static List<byte[]> awaitKeys(int n) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    List<byte[]> keys = attacker.sync().keys("tollgate:rc:*");
    while (keys.size() < n && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      keys = attacker.sync().keys("tollgate:rc:*");
    }
    assertThat(keys).hasSize(n);
    return keys;
  }
}
