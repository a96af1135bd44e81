package dev.tollgate.operator.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.MockApi;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Referenced Secrets: read by name, key names only, a bounded cache with a time to live. */
@EnableKubernetesMockClient(crud = true)
class ReferencedSecretsTest {
  static KubernetesClient client;

  private static final class MutableClock extends Clock {
    Instant now = Instant.parse("2026-12-01T00:00:00Z");

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void keepsKeyNamesButNeverValues() {
    MockApi.apply(client, Fixtures.secret("ns", "key", "api-key"));
    ReferencedSecrets secrets =
        new ReferencedSecrets(client, Duration.ofSeconds(30), 10, Clock.systemUTC());

    Secret s = secrets.read("ns", "key").orElseThrow();

    assertThat(s.getData()).containsOnlyKeys("api-key").containsEntry("api-key", "");
    assertThat(s.toString()).doesNotContain(Fixtures.API_KEY_VALUE);
    assertThat(secrets.read("ns", "missing")).isEmpty();
  }

  @Test
  void cachedReadsServeUntilTheTtlThenReadAgain() {
    MockApi.apply(client, Fixtures.secret("ttl", "key", "api-key"));
    MutableClock clock = new MutableClock();
    ReferencedSecrets secrets = new ReferencedSecrets(client, Duration.ofSeconds(30), 10, clock);
    assertThat(secrets.cached("ttl", "key")).isPresent();

    client.secrets().inNamespace("ttl").withName("key").delete();
    assertThat(secrets.cached("ttl", "key")).as("within the TTL").isPresent();

    clock.now = clock.now.plusSeconds(31);
    assertThat(secrets.cached("ttl", "key")).as("after the TTL").isEqualTo(Optional.empty());
  }

  @Test
  void aCredentialsSecretIsReadAgainOnlyWhenMissingOrOlderThanTheTtl() {
    MutableClock clock = new MutableClock();
    ReferencedSecrets secrets = new ReferencedSecrets(client, Duration.ofSeconds(30), 10, clock);
    assertThat(secrets.unlessMissing("um", "key")).as("not created yet").isEmpty();

    MockApi.apply(client, Fixtures.secret("um", "key", "api-key"));
    assertThat(secrets.unlessMissing("um", "key")).as("created: seen at once").isPresent();

    client.secrets().inNamespace("um").withName("key").delete();
    clock.now = clock.now.plusSeconds(29);
    assertThat(secrets.unlessMissing("um", "key")).as("found within the TTL: no read").isPresent();

    clock.now = clock.now.plusSeconds(2);
    assertThat(secrets.unlessMissing("um", "key")).as("deleted: seen after the TTL").isEmpty();
  }

  @Test
  void holdsAtMostItsBoundOfEntries() {
    ReferencedSecrets secrets =
        new ReferencedSecrets(client, Duration.ofSeconds(30), 3, Clock.systemUTC());
    for (int i = 0; i < 10; i++) {
      secrets.read("bound", "s-" + i);
    }

    assertThat(secrets.size()).isEqualTo(3);
  }
}
