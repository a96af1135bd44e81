package dev.tollgate.operator.webhook;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the operator-generated webhook certificate in a Secret of the operator's namespace, so that
 * every replica serves the same certificate and the one CA in {@code caBundle} trusts all of them.
 * The first replica to start creates it; the others read it; a certificate close to expiry is
 * replaced.
 */
public final class GeneratedCertificateStore {
  private static final Logger LOG = LoggerFactory.getLogger(GeneratedCertificateStore.class);
  static final Duration VALIDITY = Duration.ofDays(365);
  static final Duration RENEW_BEFORE = Duration.ofDays(30);

  private final KubernetesClient client;
  private final Clock clock;

  public GeneratedCertificateStore(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  /** The stored certificate, created (or renewed) if missing, unreadable or about to expire. */
  public WebhookTls loadOrCreate(String namespace, String secretName, List<String> dnsNames) {
    Secret existing = client.secrets().inNamespace(namespace).withName(secretName).get();
    if (existing != null) {
      WebhookTls stored = readable(existing);
      if (stored != null && !expiresSoon(stored) && coversNames(stored, dnsNames)) {
        return stored;
      }
      LOG.info("renewing the webhook certificate in Secret {}/{}", namespace, secretName);
    }
    WebhookTls generated = WebhookTls.generate(dnsNames, VALIDITY);
    Secret secret = toSecret(namespace, secretName, generated);
    try {
      if (existing == null) {
        client.secrets().inNamespace(namespace).resource(secret).create();
      } else {
        secret.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
        client.secrets().inNamespace(namespace).resource(secret).update();
      }
      LOG.info("stored a new webhook certificate in Secret {}/{}", namespace, secretName);
      return generated;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        // Another replica won the race: use what it stored.
        Secret winner = client.secrets().inNamespace(namespace).withName(secretName).get();
        WebhookTls stored = winner == null ? null : readable(winner);
        if (stored != null) {
          return stored;
        }
      }
      throw e;
    }
  }

  private boolean expiresSoon(WebhookTls tls) {
    return tls.certificateChain()
        .get(0)
        .getNotAfter()
        .toInstant()
        .isBefore(clock.instant().plus(RENEW_BEFORE));
  }

  private static boolean coversNames(WebhookTls tls, List<String> dnsNames) {
    try {
      var sans = tls.certificateChain().get(0).getSubjectAlternativeNames();
      if (sans == null) {
        return false;
      }
      var names = sans.stream().map(s -> String.valueOf(s.get(1))).collect(Collectors.toSet());
      return names.containsAll(dnsNames);
    } catch (java.security.cert.CertificateParsingException e) {
      return false;
    }
  }

  private static WebhookTls readable(Secret secret) {
    Map<String, String> data = secret.getData();
    if (data == null || !data.containsKey("tls.crt") || !data.containsKey("tls.key")) {
      return null;
    }
    try {
      return new WebhookTls(
          WebhookTls.readCertificates(decode(data.get("tls.crt"))),
          WebhookTls.readPrivateKey(decode(data.get("tls.key"))),
          data.containsKey("ca.crt") ? decode(data.get("ca.crt")) : null);
    } catch (IOException | RuntimeException e) {
      LOG.warn("the webhook certificate Secret is unreadable; generating a new one", e);
      return null;
    }
  }

  private static Secret toSecret(String namespace, String name, WebhookTls tls) {
    try {
      StringBuilder chain = new StringBuilder();
      for (var certificate : tls.certificateChain()) {
        chain.append(WebhookTls.toPem(certificate));
      }
      String key = WebhookTls.toPem(new JcaPKCS8Generator(tls.privateKey(), null));
      return new SecretBuilder()
          .withNewMetadata()
          .withName(name)
          .withNamespace(namespace)
          .addToLabels("app.kubernetes.io/managed-by", "tollgate-operator")
          .addToLabels("app.kubernetes.io/component", "webhook")
          .endMetadata()
          .withType("kubernetes.io/tls")
          .addToData("tls.crt", encode(chain.toString()))
          .addToData("tls.key", encode(key))
          .addToData("ca.crt", encode(tls.caPem()))
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String encode(String value) {
    return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.US_ASCII));
  }

  private static String decode(String value) {
    return new String(Base64.getDecoder().decode(value), StandardCharsets.US_ASCII);
  }
}
