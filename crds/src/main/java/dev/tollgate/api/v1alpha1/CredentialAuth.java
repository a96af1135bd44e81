package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonValue;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import lombok.Data;
import lombok.NoArgsConstructor;

/**
 * How a ProviderCredential authenticates: an API key from {@code secretRef} (the default), or the
 * pod's cloud identity, for which no Secret exists: the application's ServiceAccount is bound to a
 * cloud role (IRSA or EKS Pod Identity, GKE Workload Identity, Azure Workload Identity).
 */
@Data
@NoArgsConstructor
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CredentialAuth {
  @Required
  @JsonPropertyDescription(
      "apiKey (the key in secretRef), awsIam (bedrock: SigV4 with the pod's AWS credentials: IRSA,"
          + " EKS Pod Identity, instance profile), gcpWorkloadIdentity (vertex-ai: Application"
          + " Default Credentials, e.g. GKE Workload Identity) or azureWorkloadIdentity"
          + " (azure-openai: an Entra ID token for the pod's federated ServiceAccount token).")
  private Type type;

  @JsonPropertyDescription(
      "azureWorkloadIdentity only: the Entra tenant and application (client) ids and the"
          + " authority. Each defaults to what Azure's workload-identity webhook puts in the pod"
          + " (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_AUTHORITY_HOST), which it takes from the"
          + " ServiceAccount's azure.workload.identity/client-id annotation.")
  private AzureIdentity azure;

  /** The authentication schemes. */
  public enum Type {
    @JsonProperty("apiKey")
    API_KEY("apiKey"),
    @JsonProperty("awsIam")
    AWS_IAM("awsIam"),
    @JsonProperty("gcpWorkloadIdentity")
    GCP_WORKLOAD_IDENTITY("gcpWorkloadIdentity"),
    @JsonProperty("azureWorkloadIdentity")
    AZURE_WORKLOAD_IDENTITY("azureWorkloadIdentity");

    private final String wireName;

    Type(String wireName) {
      this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
      return wireName;
    }

    /** The one provider an identity scheme works with; null for apiKey (any provider). */
    public Provider provider() {
      return switch (this) {
        case API_KEY -> null;
        case AWS_IAM -> Provider.BEDROCK;
        case GCP_WORKLOAD_IDENTITY -> Provider.VERTEX_AI;
        case AZURE_WORKLOAD_IDENTITY -> Provider.AZURE_OPENAI;
      };
    }
  }

  /** Entra ID settings of azureWorkloadIdentity; all optional. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class AzureIdentity {
    @Pattern("^[0-9a-fA-F-]{36}$")
    @JsonPropertyDescription("Entra tenant id (a GUID).")
    private String tenantId;

    @Pattern("^[0-9a-fA-F-]{36}$")
    @JsonPropertyDescription("Application (client) id of the managed identity or app (a GUID).")
    private String clientId;

    @Pattern(ApiFormats.URL)
    @JsonPropertyDescription("Token authority, e.g. https://login.microsoftonline.com/.")
    private String authorityHost;
  }
}
