package dev.tollgate.sidecar.server;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;

/** Looks up what a call presents to a provider: shared by caller calls and classifier calls. */
final class ApiKeys {
  private ApiKeys() {}

  /** The credential's API key, or Vertex AI access token; null only for Ollama. */
  static String of(ProxyContext px, CredentialConfig credential) {
    if (credential.provider() == ProviderKind.VERTEX_AI) {
      String token = px.vertexTokens().token(credential.apiKeyFile());
      if (token == null) {
        throw new ProxyException(
            ErrorKind.MISSING_CREDENTIAL,
            "no Vertex AI access token for credential "
                + credential.name()
                + " yet: its service-account key is missing or invalid, or Google's token"
                + " endpoint is unreachable (see the sidecar's log)");
      }
      return token;
    }
    String key = px.config().keys().get(credential.apiKeyFile());
    if (key == null && credential.provider().requiresApiKey()) {
      throw new ProxyException(
          ErrorKind.MISSING_CREDENTIAL,
          "the API key of credential "
              + credential.name()
              + " is not available (its Secret file is missing or empty)");
    }
    return key;
  }
}
