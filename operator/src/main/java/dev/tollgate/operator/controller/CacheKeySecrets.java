package dev.tollgate.operator.controller;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.sidecar.config.CacheKeySecret;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the Secret {@code tollgate-cache-key} (a random 32-byte key) in each namespace whose
 * routes cache in Redis, once: an existing Secret is never replaced, so the key never rotates
 * behind the sidecars' back (deleting the Secret rotates it; pods pick the new one up on restart).
 * The key never leaves the Secret: not logged, not in the rendered configuration.
 */
public final class CacheKeySecrets {
  private static final Logger LOG = LoggerFactory.getLogger(CacheKeySecrets.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final KubernetesClient client;

  public CacheKeySecrets(KubernetesClient client) {
    this.client = client;
  }

  /** Whether {@code route} caches answers in Redis. */
  static boolean usesRedis(LLMRoute route) {
    LLMRouteSpec spec = route.getSpec();
    return spec != null
        && spec.getCache() != null
        && spec.getCache().getResponse() != null
        && Boolean.TRUE.equals(spec.getCache().getResponse().getEnabled())
        && spec.getCache().getResponse().getBackend() == LLMRouteSpec.CacheBackend.REDIS;
  }

  /** Creates the namespace's cache key unless it exists. */
  public void ensure(String namespace) {
    // looked up on each reconcile (no cache), so a deleted key is recreated on the next one
    if (client.secrets().inNamespace(namespace).withName(CacheKeySecret.NAME).get() != null) {
      return;
    }
    byte[] key = new byte[CacheKeySecret.MIN_BYTES];
    RANDOM.nextBytes(key);
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withName(CacheKeySecret.NAME)
            .withNamespace(namespace)
            .withLabels(Map.of("app.kubernetes.io/managed-by", "tollgate"))
            .endMetadata()
            .withType("Opaque")
            .withData(Map.of(CacheKeySecret.KEY, Base64.getEncoder().encodeToString(key)))
            .build();
    try {
      client.secrets().inNamespace(namespace).resource(secret).create();
      LOG.info(
          "created Secret {}/{} (the Redis response cache key)", namespace, CacheKeySecret.NAME);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) { // 409: another replica or reconcile created it first
        throw e;
      }
    }
  }
}
