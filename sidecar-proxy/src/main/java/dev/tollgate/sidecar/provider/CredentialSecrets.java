package dev.tollgate.sidecar.provider;

/** Where a call finds what it presents to a provider; the files are mounted from Secrets. */
public interface CredentialSecrets {
  /** The API key in {@code file}, or null when the file is missing or empty. */
  String apiKey(String file);

  /**
   * A current OAuth access token minted from the service-account key in {@code file}, or null when
   * none could be minted yet.
   */
  String accessToken(String file);
}
