package dev.tollgate.operator.controller;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The Secrets that ProviderCredentials reference, read one by one when a reconcile needs them and
 * kept (key names only) in a small bounded cache shared by the controllers.
 *
 * <p>Why not an informer: a Secret informer lists and watches every Secret of the watched
 * namespaces, and a cluster holds many large ones nothing here needs (Helm keeps each release in a
 * Secret of tens of KiB); with 2,000 of them the operator ran out of a 256 MiB heap while listing.
 * Only a {@code get} on named Secrets is needed, so RBAC can drop {@code list} and {@code watch}.
 *
 * <p>How changes are noticed without a watch: the ProviderCredential controller re-reads its
 * credential's Secret ({@link #read}) every {@code TOLLGATE_SECRET_RECHECK}; a change of the
 * outcome changes the credential's {@code SecretResolved} condition, which wakes the routes that
 * use it, and they then find the fresh entry here ({@link #cached}).
 */
public final class ReferencedSecrets {
  private final KubernetesClient client;
  private final Duration ttl;
  private final int maxEntries;
  private final Clock clock;
  private final Map<String, Entry> entries;

  private record Entry(Optional<Secret> secret, Instant readAt) {}

  /**
   * @param ttl how long a read serves {@link #cached} lookups
   * @param maxEntries bound of the cache; least recently used entries go first
   */
  public ReferencedSecrets(KubernetesClient client, Duration ttl, int maxEntries, Clock clock) {
    this.client = client;
    this.ttl = ttl;
    this.maxEntries = maxEntries;
    this.clock = clock;
    this.entries =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
            return size() > ReferencedSecrets.this.maxEntries;
          }
        };
  }

  /** The Secret, key names only, as last read within the TTL, else read now. */
  public Optional<Secret> cached(String namespace, String name) {
    Entry e = fresh(namespace, name, true);
    return e != null ? e.secret() : read(namespace, name);
  }

  /**
   * For a ProviderCredential's reconcile: a Secret found within the TTL is served from the cache, a
   * missing one is read again. A credential reconciles on every ledger write of its namespace (its
   * health lives there), and reading its Secret each time cost 11–27 GETs a second at 100
   * namespaces; the recheck every TTL still notices a Secret changed or deleted, and a Secret
   * created to fix a credential is seen on its next reconcile.
   */
  public Optional<Secret> unlessMissing(String namespace, String name) {
    Entry e = fresh(namespace, name, false);
    return e != null ? e.secret() : read(namespace, name);
  }

  /** The entry read within the TTL, or null (one recording a missing Secret only if asked). */
  private Entry fresh(String namespace, String name, boolean missingToo) {
    synchronized (entries) {
      Entry e = entries.get(namespace + "/" + name);
      if (e != null
          && (missingToo || e.secret().isPresent())
          && e.readAt().plus(ttl).isAfter(clock.instant())) {
        return e;
      }
    }
    return null;
  }

  /**
   * Reads the Secret from the API server now and keeps its key names. Errors other than "not found"
   * (403: RBAC lacks {@code get secrets}) propagate, so the reconcile fails and is retried.
   */
  public Optional<Secret> read(String namespace, String name) {
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
    Optional<Secret> keys = Optional.ofNullable(secret).map(EventSources::keysOnly);
    synchronized (entries) {
      entries.put(namespace + "/" + name, new Entry(keys, clock.instant()));
    }
    return keys;
  }

  /** Entries held now (at most {@code maxEntries}). */
  public int size() {
    synchronized (entries) {
      return entries.size();
    }
  }
}
