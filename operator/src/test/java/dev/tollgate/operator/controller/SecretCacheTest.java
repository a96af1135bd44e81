package dev.tollgate.operator.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.junit.jupiter.api.Test;

class SecretCacheTest {
  @Test
  void cachedSecretsKeepKeyNamesButNoValuesAnywhere() {
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withName("openai-key")
            .withNamespace("ns")
            .withResourceVersion("7")
            .addToAnnotations(
                "kubectl.kubernetes.io/last-applied-configuration",
                "{\"stringData\":{\"api-key\":\"sk-live-123\"}}")
            .endMetadata()
            .addToData("api-key", "c2stbGl2ZS0xMjM=")
            .addToStringData("other", "sk-live-456")
            .build();

    Secret cached = EventSources.keysOnly(secret);

    assertThat(cached.getData()).containsOnlyKeys("api-key", "other");
    assertThat(cached.getMetadata().getResourceVersion()).isEqualTo("7");
    String json = Serialization.asJson(cached);
    assertThat(json).doesNotContain("sk-live").doesNotContain("c2stbGl2ZS0xMjM=");
  }
}
