package dev.tollgate.sidecar.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;

/**
 * How a credential proves who it is: an API key from a mounted Secret (the default, and what a
 * configuration rendered before this field means), or the pod's cloud identity, for which no Secret
 * exists. Added after the first version of the contract.
 *
 * @param kind which scheme
 * @param tenantId Azure: the Entra tenant; null reads {@code AZURE_TENANT_ID}, which Azure's
 *     workload-identity webhook sets
 * @param clientId Azure: the application (client) id; null reads {@code AZURE_CLIENT_ID}
 * @param authorityHost Azure: the token authority; null reads {@code AZURE_AUTHORITY_HOST}, else
 *     {@code https://login.microsoftonline.com/}
 */
public record CredentialAuth(Kind kind, String tenantId, String clientId, String authorityHost) {
  public static final CredentialAuth API_KEY = new CredentialAuth(Kind.API_KEY, null, null, null);

  public CredentialAuth {
    kind = Defaults.or(kind, Kind.API_KEY);
  }

  /** Whether the credential reads a key file from a mounted Secret. */
  public boolean usesSecret() {
    return kind == Kind.API_KEY;
  }

  /** Jackson's filter that leaves the default (an API key) out of the rendered configuration. */
  public static final class IsApiKey {
    @Override
    public boolean equals(Object other) {
      return other == null || API_KEY.equals(other);
    }

    @Override
    public int hashCode() {
      return 0;
    }
  }

  /** The schemes, spelled as in {@code ProviderCredential.spec.auth.type}. */
  public enum Kind {
    /** A key (or, for vertex-ai, a service-account JSON key) in a mounted Secret. */
    API_KEY("apiKey"),
    /** Bedrock: SigV4 with the AWS default credentials chain (IRSA, Pod Identity, ...). */
    AWS_IAM("awsIam"),
    /** Vertex AI: Application Default Credentials (GKE Workload Identity, metadata server). */
    GCP_WORKLOAD_IDENTITY("gcpWorkloadIdentity"),
    /** Azure OpenAI: an Entra ID token for the pod's federated service-account token. */
    AZURE_WORKLOAD_IDENTITY("azureWorkloadIdentity");

    private final String wireName;

    Kind(String wireName) {
      this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
      return wireName;
    }

    /** The provider this scheme works with, or null when any provider may use it. */
    public ProviderKind provider() {
      return switch (this) {
        case API_KEY -> null;
        case AWS_IAM -> ProviderKind.BEDROCK;
        case GCP_WORKLOAD_IDENTITY -> ProviderKind.VERTEX_AI;
        case AZURE_WORKLOAD_IDENTITY -> ProviderKind.AZURE_OPENAI;
      };
    }

    @JsonCreator
    public static Kind fromWireName(String name) {
      return Arrays.stream(values())
          .filter(k -> k.wireName.equals(name))
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unknown auth type '" + name + "'"));
    }
  }
}
