package dev.tollgate.sidecar.provider;

import dev.tollgate.sidecar.config.CredentialAuth;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.bedrock.AwsIdentity;
import dev.tollgate.sidecar.provider.openai.EntraIdentity;
import dev.tollgate.sidecar.provider.vertex.GoogleIdentity;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cloud identities of the credentials whose {@code auth} is not an API key, one {@link
 * CloudIdentity} per credential, fetched and renewed on this class's own thread. Which cloud builds
 * which identity is the switch in {@link #create}; each cloud's code lives in its provider package.
 * Values are never logged.
 */
public final class CloudIdentities implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CloudIdentities.class);

  private final Map<String, CloudIdentity<?>> byCredential = new ConcurrentHashMap<>();
  private final Clock clock;
  private final dev.tollgate.sidecar.runtime.Refresher refresher;

  public CloudIdentities(Duration checkEvery, Clock clock) {
    this.clock = clock;
    // the thread starts with the first identity to fetch: none for API keys only
    this.refresher =
        new dev.tollgate.sidecar.runtime.Refresher(
            "tollgate-cloud-identities", checkEvery, this::refreshDue);
  }

  /**
   * The identity of {@code credential}.
   *
   * @throws ProxyException {@link ErrorKind#MISSING_CREDENTIAL} when the configuration in force has
   *     not been loaded for it yet
   */
  @SuppressWarnings("unchecked")
  public <T> CloudIdentity<T> of(CredentialConfig credential) {
    CloudIdentity<?> id = byCredential.get(credential.name());
    if (id == null) {
      throw new ProxyException(
          ErrorKind.MISSING_CREDENTIAL,
          "the cloud identity of credential " + credential.name() + " is not set up yet");
    }
    return (CloudIdentity<T>) id;
  }

  /** Why each failing identity failed, by credential name (for health and logs). */
  public Map<String, String> problems() {
    Map<String, String> out = new java.util.TreeMap<>();
    byCredential.forEach(
        (name, id) -> {
          if (id.problem() != null) {
            out.put(name, id.problem());
          }
        });
    return out;
  }

  /**
   * Sets up the identities of these credentials (called with every configuration the watcher
   * reads): new or changed ones are fetched at once on the refresher thread, removed ones dropped.
   */
  public void update(Collection<CredentialConfig> credentials) {
    Map<String, CredentialConfig> wanted = new ConcurrentHashMap<>();
    for (CredentialConfig c : credentials) {
      if (!c.auth().usesSecret()) {
        wanted.put(c.name(), c);
      }
    }
    byCredential.keySet().retainAll(wanted.keySet());
    wanted.forEach(
        (name, c) -> {
          String fingerprint = fingerprint(c);
          CloudIdentity<?> old = byCredential.get(name);
          if (old != null && old.fingerprint().equals(fingerprint)) {
            return;
          }
          CloudIdentity<?> id = create(c, fingerprint);
          byCredential.put(name, id);
          refresher.execute(() -> refresh(name, id));
        });
  }

  private CloudIdentity<?> create(CredentialConfig c, String fingerprint) {
    return switch (c.auth().kind()) {
      case AWS_IAM ->
          new CloudIdentity<>(
              c.name(), fingerprint, "AWS credentials", AwsIdentity.fetcher(), clock);
      case GCP_WORKLOAD_IDENTITY ->
          new CloudIdentity<>(
              c.name(), fingerprint, "Google access token", GoogleIdentity.fetcher(), clock);
      case AZURE_WORKLOAD_IDENTITY ->
          new CloudIdentity<>(
              c.name(),
              fingerprint,
              "Entra ID token",
              EntraIdentity.fetcher(c.auth(), CloudIdentities::environment),
              clock);
      case API_KEY ->
          new CloudIdentity<>(
              c.name(),
              fingerprint,
              "cloud identity",
              () -> {
                throw new UnsupportedOperationException(
                    "auth " + c.auth().kind().wireName() + " is not supported by this sidecar");
              },
              clock);
    };
  }

  /**
   * The pod's environment variable {@code name}, else the JVM system property of the same name
   * (runs outside Kubernetes and tests, as the AWS SDK reads {@code aws.*} properties).
   */
  static String environment(String name) {
    String v = System.getenv(name);
    return v != null ? v : System.getProperty(name);
  }

  private static String fingerprint(CredentialConfig c) {
    CredentialAuth a = c.auth();
    return Objects.hash(c.provider(), c.endpoint(), c.bedrock(), c.vertex(), c.azure(), a) + "";
  }

  /** Fetches every identity that is due (nothing yet, or close to expiry). */
  void refreshDue() {
    byCredential.forEach(
        (name, id) -> {
          if (id.due()) {
            refresh(name, id);
          }
        });
  }

  private void refresh(String name, CloudIdentity<?> id) {
    if (byCredential.get(name) != id) {
      return; // replaced or removed meanwhile
    }
    String before = id.problem();
    id.refresh();
    if (id.problem() == null) {
      LOG.info("credential {}: {} fetched", name, id.what());
    } else if (!id.problem().equals(before)) {
      LOG.warn("credential {}: cannot fetch {}: {}", name, id.what(), id.problem());
    }
  }

  @Override
  public void close() {
    refresher.close();
  }
}
