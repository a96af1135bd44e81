package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A Redis password never travels in the configuration (a ConfigMap): it comes from a Secret. */
class RedisUrlSecretTest {
  private static List<String> problems(String url, String passwordFile) throws Exception {
    return SidecarConfigValidator.validate(
        SidecarConfigCodec.parse(
            """
            namespace: shop
            routes:
              - model: chat
                tiers:
                  - name: main
                    targets: [{credential: openai, model: gpt-4o}]
                cache:
                  response:
                    enabled: true
                    backend: redis
                    redis: {url: "%s"%s}
            credentials:
              - name: openai
                provider: openai
                apiKeyFile: /keys/openai
            """
                .formatted(url, passwordFile == null ? "" : ", passwordFile: " + passwordFile)));
  }

  @Test
  void aPasswordInTheUrlIsRefused() throws Exception {
    String field = "routes[chat].cache.response.redis.url: must not contain a password";
    assertThat(problems("redis://default:hunter2@redis:6379", null))
        .anyMatch(p -> p.startsWith(field));
    assertThat(problems("redis://hunter2@redis:6379", null)).anyMatch(p -> p.startsWith(field));
    assertThat(problems("redis://redis:6379?password=hunter2", null))
        .anyMatch(p -> p.startsWith(field));
    assertThat(problems("rediss://app:hunter2@redis:6379", "/secrets/redis/password"))
        .anyMatch(p -> p.startsWith(field));
  }

  @Test
  void aUserWithAPasswordFileOrNoAuthIsFine() throws Exception {
    assertThat(problems("redis://redis:6379", null)).noneMatch(p -> p.contains("redis.url"));
    assertThat(problems("rediss://app@redis:6379", "/secrets/redis/password"))
        .noneMatch(p -> p.contains("redis.url"));
  }
}
