package dev.tollgate.sidecar.provider.vertex;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OAuth access tokens for Vertex AI, minted from the service-account keys mounted for vertex-ai
 * credentials by Google's auth library. Minting is blocking HTTP, so it runs on this class's own
 * thread, ahead of expiry; the data path only reads the current token. Token values are never
 * logged.
 */
public final class VertexTokens implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(VertexTokens.class);
  private static final List<String> SCOPES =
      List.of("https://www.googleapis.com/auth/cloud-platform");
  private static final Duration REFRESH_AHEAD = Duration.ofMinutes(5);

  private record Entry(
      String fileContent, GoogleCredentials credentials, String token, Instant expiry) {}

  private final Map<String, Entry> byKeyFile = new ConcurrentHashMap<>();
  private final dev.tollgate.sidecar.runtime.Refresher refresher;

  public VertexTokens(Duration checkEvery) {
    // the thread starts with the first key file to mint from: none without Vertex AI keys
    this.refresher =
        new dev.tollgate.sidecar.runtime.Refresher(
            "tollgate-vertex-tokens", checkEvery, this::refreshDue);
  }

  /** The current token for the key in {@code keyFile}, or null when none could be minted yet. */
  public String token(String keyFile) {
    Entry e = keyFile == null ? null : byKeyFile.get(keyFile);
    return e == null ? null : e.token();
  }

  /**
   * Loads these key files (called on the configuration watcher's thread with every reload) and
   * mints tokens for new or changed keys on the refresher thread.
   */
  public void update(Collection<String> keyFiles) {
    byKeyFile.keySet().retainAll(keyFiles);
    for (String f : keyFiles) {
      String content;
      try {
        content = Files.readString(Path.of(f));
      } catch (IOException e) {
        LOG.warn("cannot read service-account key file {}: {}", f, e.toString());
        continue;
      }
      Entry old = byKeyFile.get(f);
      if (old != null && old.fileContent().equals(content)) {
        continue;
      }
      try (InputStream in = Files.newInputStream(Path.of(f))) {
        GoogleCredentials creds = GoogleCredentials.fromStream(in).createScoped(SCOPES);
        byKeyFile.put(
            f, new Entry(content, creds, old == null ? null : old.token(), Instant.EPOCH));
        refresher.execute(() -> refresh(f));
      } catch (IOException | RuntimeException e) {
        LOG.warn("service-account key file {} is not usable: {}", f, e.getMessage());
      }
    }
  }

  private void refreshDue() {
    Instant soon = Instant.now().plus(REFRESH_AHEAD);
    byKeyFile.forEach(
        (f, e) -> {
          if (e.token() == null || e.expiry().isBefore(soon)) {
            refresh(f);
          }
        });
  }

  private void refresh(String keyFile) {
    Entry e = byKeyFile.get(keyFile);
    if (e == null) {
      return;
    }
    try {
      e.credentials().refresh();
      AccessToken t = e.credentials().getAccessToken();
      Instant expiry =
          t.getExpirationTime() == null
              ? Instant.now().plus(Duration.ofMinutes(30))
              : t.getExpirationTime().toInstant();
      byKeyFile.computeIfPresent(
          keyFile,
          (k, cur) ->
              Objects.equals(cur.fileContent(), e.fileContent())
                  ? new Entry(cur.fileContent(), cur.credentials(), t.getTokenValue(), expiry)
                  : cur);
      LOG.info("minted a Vertex AI access token from {} valid until {}", keyFile, expiry);
    } catch (IOException | RuntimeException ex) {
      LOG.warn("cannot mint a Vertex AI access token from {}: {}", keyFile, ex.getMessage());
    }
  }

  @Override
  public void close() {
    refresher.close();
  }
}
