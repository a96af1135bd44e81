package dev.tollgate.sidecar.provider.vertex;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import dev.tollgate.sidecar.provider.CloudIdentity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Vertex AI access tokens from Google's Application Default Credentials, found as Google's auth
 * library finds them: {@code GOOGLE_APPLICATION_CREDENTIALS} or the gcloud well-known file (a
 * service-account key, or a workload identity federation configuration that exchanges the pod's
 * projected token at Google's STS), else the metadata server, which is how GKE Workload Identity
 * serves the bound Google service account. The library's blocking calls run on {@link
 * dev.tollgate.sidecar.provider.CloudIdentities}' thread.
 */
public final class GoogleIdentity {
  private static final List<String> SCOPES =
      List.of("https://www.googleapis.com/auth/cloud-platform");

  private GoogleIdentity() {}

  /** A fetcher that looks the credentials up once, then mints a new token on each fetch. */
  public static CloudIdentity.Fetcher<String> fetcher() {
    GoogleCredentials[] found = new GoogleCredentials[1];
    return () -> {
      if (found[0] == null) {
        found[0] = GoogleCredentials.getApplicationDefault().createScoped(SCOPES);
      }
      found[0].refresh();
      AccessToken t = found[0].getAccessToken();
      Instant expiry =
          t.getExpirationTime() == null
              ? Instant.now().plus(Duration.ofMinutes(30))
              : t.getExpirationTime().toInstant();
      return new CloudIdentity.Fetched<>(t.getTokenValue(), expiry);
    };
  }
}
