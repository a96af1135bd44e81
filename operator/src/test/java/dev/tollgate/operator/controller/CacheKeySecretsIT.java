package dev.tollgate.operator.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.CacheKeySecret;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The per-namespace Redis cache key: created once, random, never replaced. */
@EnableKubernetesMockClient(crud = true)
class CacheKeySecretsIT {
  KubernetesClient client;

  private Secret key(String namespace) {
    return client.secrets().inNamespace(namespace).withName(CacheKeySecret.NAME).get();
  }

  @Test
  void eachNamespaceGetsItsOwnKeyOnceAndItIsNeverReplaced() {
    CacheKeySecrets keys = new CacheKeySecrets(client);
    keys.ensure("team-a");
    keys.ensure("team-b");
    byte[] a = Base64.getDecoder().decode(key("team-a").getData().get(CacheKeySecret.KEY));
    byte[] b = Base64.getDecoder().decode(key("team-b").getData().get(CacheKeySecret.KEY));
    assertThat(a).hasSize(32);
    assertThat(b).hasSize(32).isNotEqualTo(a);

    keys.ensure("team-a");
    new CacheKeySecrets(client).ensure("team-a");
    assertThat(Base64.getDecoder().decode(key("team-a").getData().get(CacheKeySecret.KEY)))
        .isEqualTo(a);

    // deleted (e.g. to rotate it): created afresh on the next reconcile
    client.secrets().inNamespace("team-a").withName(CacheKeySecret.NAME).delete();
    keys.ensure("team-a");
    assertThat(key("team-a")).isNotNull();
  }
}
