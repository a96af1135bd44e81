package dev.tollgate.sidecar.provider;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;

/** Where a call finds what it presents to a provider; the files are mounted from Secrets. */
public interface CredentialSecrets {
  /** The API key in {@code file}, or null when the file is missing or empty. */
  String apiKey(String file);

  /**
   * A current OAuth access token minted from the service-account key in {@code file}, or null when
   * none could be minted yet.
   */
  String accessToken(String file);

  /**
   * The current cloud identity of {@code credential} (an {@code auth} other than an API key): AWS
   * credentials or an access token, fetched ahead of time off the event loop.
   *
   * @throws ProxyException {@link ErrorKind#MISSING_CREDENTIAL} saying why there is none (not
   *     fetched yet, expired, denied)
   */
  default <T> T identity(CredentialConfig credential) {
    throw new ProxyException(
        ErrorKind.MISSING_CREDENTIAL,
        "no cloud identity is set up for credential " + credential.name());
  }
}
