package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import lombok.Data;
import lombok.NoArgsConstructor;

/** Desired state of a {@link ProviderCredential}. */
@Data
@NoArgsConstructor
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@ValidationRule(
    value =
        "self.provider == 'ollama' || has(self.secretRef) || (has(self.auth) &&"
            + " self.auth.type != 'apiKey')",
    message =
        "secretRef is required for every provider except ollama, unless auth uses an identity")
@ValidationRule(
    value =
        "!has(self.auth) || self.auth.type == 'apiKey' || (self.auth.type == 'awsIam' &&"
            + " self.provider == 'bedrock') || (self.auth.type == 'gcpWorkloadIdentity' &&"
            + " self.provider == 'vertex-ai') || (self.auth.type == 'azureWorkloadIdentity' &&"
            + " self.provider == 'azure-openai')",
    message =
        "auth.type awsIam is for bedrock, gcpWorkloadIdentity for vertex-ai,"
            + " azureWorkloadIdentity for azure-openai")
@ValidationRule(
    value =
        "!(self.provider in ['ollama', 'openai-compatible', 'azure-openai']) || has(self.endpoint)",
    message = "endpoint is required for ollama, openai-compatible and azure-openai")
@ValidationRule(
    value = "self.provider != 'bedrock' || has(self.bedrock)",
    message = "bedrock.region is required when provider is bedrock")
@ValidationRule(
    value = "self.provider != 'vertex-ai' || has(self.vertex)",
    message = "vertex.project and vertex.location are required when provider is vertex-ai")
@ValidationRule(
    value = "self.provider != 'azure-openai' || has(self.azure)",
    message = "azure.deployment is required when provider is azure-openai")
public class ProviderCredentialSpec {
  @Required
  @JsonPropertyDescription("Which provider API this account speaks.")
  private Provider provider;

  @Pattern(ApiFormats.URL)
  @JsonPropertyDescription(
      "Base URL. Defaulted per provider; required for ollama, openai-compatible and azure-openai.")
  private String endpoint;

  @JsonPropertyDescription(
      "The API key: a key of a Secret in this namespace. Its value is mounted into sidecars as a"
          + " file and never copied anywhere else.")
  private SecretKeyRef secretRef;

  @JsonPropertyDescription(
      "How calls authenticate; default apiKey (secretRef). With a cloud identity no Secret is"
          + " needed: bind the application's ServiceAccount to a cloud role instead.")
  private CredentialAuth auth;

  private BedrockSettings bedrock;
  private VertexSettings vertex;
  private AzureSettings azure;

  @JsonPropertyDescription(
      "The account's own limits. They hold for the account as a whole and are divided among the"
          + " sidecars that use it.")
  private AccountLimits limits;

  @JsonPropertyDescription("Per-model price overrides and a markup on top of the catalogue.")
  private Pricing pricing;

  @JsonPropertyDescription(
      "Reserved, not acted on yet: other namespaces whose LLMRoutes may use this credential (like"
          + " Gateway API's ReferenceGrant). Today a route uses credentials of its own namespace"
          + " only.")
  private List<String> allowedNamespaces = new ArrayList<>();

  @JsonPropertyDescription("Active health probing of this account's models.")
  private HealthCheck healthCheck;

  @JsonPropertyDescription(
      "Governed passthrough: the provider's endpoints the sidecar does not route (files, batches,"
          + " audio, images, moderations, stored responses...) are forwarded with this"
          + " credential's key, budgets applied and calls metered. On for every path unless set.")
  private Passthrough passthrough;

  /** Which of the provider's unrouted endpoints sidecars forward through this credential. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public static class Passthrough {
    @JsonPropertyDescription("false switches passthrough off for this credential; default true.")
    private Boolean enabled;

    @JsonPropertyDescription(
        "Allow-list of path prefixes, each starting with /v1/ (e.g. /v1/files, /v1/batches);"
            + " empty allows every path.")
    private List<String> paths = new ArrayList<>();

    @JsonProperty("default")
    @JsonPropertyDescription(
        "This credential serves passthrough calls when the namespace has several of the same API"
            + " format and the request names no route.")
    private Boolean isDefault;

    @Min(1)
    @Max(5368709120L)
    @JsonPropertyDescription(
        "Largest request body a passthrough call may stream to the provider (multipart uploads,"
            + " audio), in bytes; default 536870912 (512 MiB, OpenAI's limit for one file). A"
            + " larger declared body is answered 413 before anything is sent; one that grows past"
            + " it while streaming is cut off at the provider and answered 413.")
    private Long maxBodyBytes;
  }

  /** AWS Bedrock settings. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class BedrockSettings {
    @Required
    @Pattern("^[a-z]{2}(-[a-z]+)+-[0-9]$")
    @JsonPropertyDescription("AWS region, e.g. us-east-1.")
    private String region;

    @Pattern("^(us|eu|apac|global|us-gov|ca|jp|au)$")
    @JsonPropertyDescription(
        "Cross-region inference profile: its geography (us, eu, apac, global, ...) is put before"
            + " model ids that have none, so anthropic.claude-... is called as"
            + " us.anthropic.claude-...")
    private String inferenceProfile;
  }

  /** Google Vertex AI settings. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class VertexSettings {
    @Required
    @JsonPropertyDescription("Google Cloud project id.")
    private String project;

    @Required
    @JsonPropertyDescription("Vertex AI location, e.g. us-east5.")
    private String location;
  }

  /** Azure OpenAI settings. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class AzureSettings {
    @Required
    @JsonPropertyDescription("Deployment name, part of the request URL.")
    private String deployment;

    @Pattern("^[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?$")
    @JsonPropertyDescription("api-version query parameter; default 2024-10-21.")
    private String apiVersion;
  }

  /** Requests and tokens per minute, and tokens per UTC day, allowed to the account. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class AccountLimits {
    @Min(1)
    private Integer requestsPerMinute;

    @Min(1)
    private Long tokensPerMinute;

    @Min(1)
    @JsonPropertyDescription(
        "Tokens (input + output) per UTC day, divided among the namespace's live sidecars like"
            + " the per-minute limits; the day starts at 00:00 UTC.")
    private Long tokensPerDay;
  }

  /** Price overrides; USD per million tokens, as decimal strings. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public static class Pricing {
    @Pattern(ApiFormats.PERCENT)
    @JsonPropertyDescription(
        "Added to every price, in percent, e.g. \"10\" for a cloud marketplace markup.")
    private String markupPercent;

    private List<ModelPrice> models = new ArrayList<>();
  }

  /** One model's price. Fields left out fall back to the catalogue. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ModelPrice {
    @Required
    @Pattern(ApiFormats.MODEL_NAME)
    private String model;

    @Required
    @Pattern(ApiFormats.MONEY)
    @JsonPropertyDescription("USD per million input tokens.")
    private String input;

    @Required
    @Pattern(ApiFormats.MONEY)
    @JsonPropertyDescription("USD per million output tokens.")
    private String output;

    @Pattern(ApiFormats.MONEY)
    @JsonPropertyDescription("USD per million cache-read input tokens.")
    private String cacheRead;

    @Pattern(ApiFormats.MONEY)
    @JsonPropertyDescription("USD per million cache-write input tokens.")
    private String cacheWrite;
  }

  /** Periodic probe of the account so a dead provider is known before a user hits it. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class HealthCheck {
    private Boolean enabled;

    @Pattern(ApiFormats.DURATION)
    @JsonPropertyDescription("How often to probe; default 30s.")
    private String interval;

    @Pattern(ApiFormats.MODEL_NAME)
    @JsonPropertyDescription("Model to probe with a one-token request; default: list models.")
    private String model;

    @Min(1)
    @Max(10)
    @JsonPropertyDescription("Consecutive failed probes before the account is Unavailable.")
    private Integer failureThreshold;
  }
}
