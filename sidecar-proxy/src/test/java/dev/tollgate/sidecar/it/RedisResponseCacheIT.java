package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.Sidecar;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The shared response cache: two sidecars of one namespace and a sidecar of another namespace, all
 * against one real Redis (password protected, the password read from a file as the mounted Secret
 * would be). An answer one sidecar cached is served by the other; the other namespace never sees
 * it; with Redis gone, calls still succeed through the provider.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisResponseCacheIT {
  private static RedisServer redis;
  private static TestBed bed;
  private static Sidecar second;
  private static Sidecar otherTenant;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    redis = RedisServer.start("s3cret-redis-pw");
    Path passwordFile = redis.dir.resolve("redis.password");
    Files.writeString(passwordFile, redis.password + "\n");
    // each namespace's cache key, as the Secret tollgate-cache-key would be mounted
    Path itKey = redis.dir.resolve("it.cache-key");
    Files.write(itKey, randomKey());
    Path otherKey = redis.dir.resolve("other-team.cache-key");
    Files.write(otherKey, randomKey());
    String routes =
        """
          - model: faq
            retry: {attempts: 0}
            cache:
              response:
                enabled: true
                ttl: 10m
                backend: redis
                redis: {url: "%s", passwordFile: "%s", keyFile: "%s"}
            tiers:
              - name: main
                targets: [{credential: openai, model: gpt-4o-mini}]
        """
            .formatted(redis.url(), passwordFile, itKey);
    bed = TestBed.start(routes);
    second = Sidecar.start(bed.configFile, 0, 2, Duration.ofMillis(200));
    Path otherConfig = bed.dir.resolve("other-tenant.yaml");
    Files.writeString(
        otherConfig,
        Files.readString(bed.configFile)
            .replace("namespace: it", "namespace: other-team")
            .replace(itKey.toString(), otherKey.toString()));
    otherTenant = Sidecar.start(otherConfig, 0, 2, Duration.ofMillis(200));
  }

  private static byte[] randomKey() {
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    return key;
  }

  @AfterAll
  static void stop() throws Exception {
    if (otherTenant != null) {
      otherTenant.shutdown(Duration.ZERO);
    }
    if (second != null) {
      second.shutdown(Duration.ZERO);
    }
    if (bed != null) {
      bed.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static HttpResponse<String> ask(Sidecar sidecar, String question) throws Exception {
    String body =
        """
        {"model": "faq", "temperature": 0, "max_tokens": 30,
         "messages": [{"role": "user", "content": "%s"}]}
        """
            .formatted(question);
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(sidecar.baseUrl() + "/v1/chat/completions"))
            .timeout(Duration.ofSeconds(20))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String cache(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.headers().firstValue("x-tollgate-cache").orElse(null);
  }

  @Test
  @Order(1)
  void anAnswerOneSidecarCachedIsServedByAnother() throws Exception {
    HttpResponse<String> first = ask(bed.sidecar, "How do I cancel my order?");
    assertThat(cache(first)).isEqualTo("miss");
    HttpResponse<String> shared = ask(second, "How do I cancel my order?");
    assertThat(cache(shared)).isEqualTo("hit");
    assertThat(shared.body()).contains("t0 t1 t2");
    assertThat(bed.sim.stats().requests()).isEqualTo(1);
    assertThat(second.ledger().total().cacheHits()).isEqualTo(1);
    assertThat(second.ledger().total().requests()).isZero();

    // in Redis under the namespace/route prefix, with the route's TTL
    RedisURI uri = RedisURI.create(redis.url());
    uri.setAuthentication(redis.password.toCharArray());
    RedisClient client = RedisClient.create(uri);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      List<String> keys = c.sync().keys("tollgate:rc:*");
      assertThat(keys).hasSize(1);
      long ttl = c.sync().pttl(keys.get(0));
      assertThat(ttl).isBetween(1L, Duration.ofMinutes(10).toMillis());
      assertThat(c.sync().get(keys.get(0))).doesNotContain("How do I cancel");
    } finally {
      client.shutdown();
    }
  }

  @Test
  @Order(2)
  void anotherNamespaceOnTheSameRedisNeverSeesIt() throws Exception {
    assertThat(cache(ask(bed.sidecar, "What is your refund policy?"))).isEqualTo("miss");
    assertThat(cache(ask(otherTenant, "What is your refund policy?"))).isEqualTo("miss");
    assertThat(bed.sim.stats().requests()).isEqualTo(2);
    // while the tenant's own second sidecar does
    assertThat(cache(ask(second, "What is your refund policy?"))).isEqualTo("hit");
  }

  @Test
  @Order(3)
  void callsSucceedWhenRedisIsGone() throws Exception {
    redis.stop();
    assertThat(cache(ask(bed.sidecar, "Is there a phone number?"))).isEqualTo("miss");
    // not in the second sidecar's memory, and Redis cannot say: the provider answers
    assertThat(cache(ask(second, "Is there a phone number?"))).isEqualTo("miss");
    assertThat(bed.sim.stats().requests()).isEqualTo(2);
    // the first sidecar still has it in memory
    assertThat(cache(ask(bed.sidecar, "Is there a phone number?"))).isEqualTo("hit");
    // failed Redis operations are counted on Lettuce's threads: wait for them
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        bed.metric("tollgate_response_cache_redis_errors_total{op=\"get\"}")
                            + bed.metric("tollgate_response_cache_redis_errors_total{op=\"set\"}"))
                    .isPositive());
  }
}
