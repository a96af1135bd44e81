package dev.tollgate.operator.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.operator.Fixtures;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.junit.jupiter.api.Test;

class EventSourcesTest {
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

  @Test
  void aCredentialWhoseSecretStopsOrStartsResolvingWakesItsRoutes() {
    // no Secret watch: routes learn of a Secret change through the credential's SecretResolved
    var before = credentialWith("True", "SecretResolved");
    var healthOnly = credentialWith("True", "SecretResolved");
    healthOnly.getStatus().setUnpricedModels(java.util.List.of("my-finetune"));
    var keyGone = credentialWith("False", "SecretKeyNotFound");

    assertThat(EventSources.credentialChanged(healthOnly, before)).isFalse();
    assertThat(EventSources.credentialChanged(keyGone, before)).isTrue();
    assertThat(EventSources.credentialChanged(before, keyGone)).isTrue();
  }

  private static dev.tollgate.api.v1alpha1.ProviderCredential credentialWith(
      String status, String reason) {
    var c =
        Fixtures.credential(
            "ns", "c", dev.tollgate.api.v1alpha1.Provider.OPENAI, "openai-key", "api-key");
    c.setStatus(new dev.tollgate.api.v1alpha1.ProviderCredentialStatus());
    c.getStatus()
        .setConditions(
            java.util.List.of(
                new io.fabric8.kubernetes.api.model.ConditionBuilder()
                    .withType(dev.tollgate.api.status.Conditions.SECRET_RESOLVED)
                    .withStatus(status)
                    .withReason(reason)
                    .build()));
    return c;
  }

  @Test
  void statusAndMetadataChangesOfOtherObjectsAreNoEvent() {
    LLMRoute before = Fixtures.route("ns", "r", "m", Fixtures.tier("t", "c", "gpt-4o"));
    LLMRoute statusOnly = Fixtures.route("ns", "r", "m", Fixtures.tier("t", "c", "gpt-4o"));
    statusOnly.getStatus().setTiers("t");
    statusOnly.getMetadata().setAnnotations(java.util.Map.of("a", "b"));
    LLMRoute newSpec = Fixtures.route("ns", "r", "m2", Fixtures.tier("t", "c", "gpt-4o"));
    newSpec.getMetadata().setGeneration(2L);
    LLMRoute deleting = Fixtures.route("ns", "r", "m", Fixtures.tier("t", "c", "gpt-4o"));
    deleting.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");

    assertThat(EventSources.specOrDeletionChanged(statusOnly, before)).isFalse();
    assertThat(EventSources.specOrDeletionChanged(newSpec, before)).isTrue();
    assertThat(EventSources.specOrDeletionChanged(deleting, before)).isTrue();
  }
}
