package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Optional;

/**
 * The LLM providers Tollgate can call, spelled as in {@code ProviderCredential.spec.provider}.
 * Their default endpoints are the sidecar's knowledge ({@code ProviderKind} in sidecar-config).
 */
public enum Provider {
  @JsonProperty("openai")
  OPENAI("openai"),
  @JsonProperty("anthropic")
  ANTHROPIC("anthropic"),
  @JsonProperty("gemini")
  GEMINI("gemini"),
  @JsonProperty("vertex-ai")
  VERTEX_AI("vertex-ai"),
  @JsonProperty("bedrock")
  BEDROCK("bedrock"),
  @JsonProperty("azure-openai")
  AZURE_OPENAI("azure-openai"),
  @JsonProperty("groq")
  GROQ("groq"),
  @JsonProperty("mistral")
  MISTRAL("mistral"),
  @JsonProperty("cohere")
  COHERE("cohere"),
  @JsonProperty("ollama")
  OLLAMA("ollama"),
  @JsonProperty("openai-compatible")
  OPENAI_COMPATIBLE("openai-compatible");

  private final String wireName;

  Provider(String wireName) {
    this.wireName = wireName;
  }

  /** The name used in the API ({@code openai}, {@code vertex-ai}, ...). */
  @JsonValue
  public String wireName() {
    return wireName;
  }

  /** Whether {@code spec.endpoint} must be given because there is no sensible default. */
  public boolean requiresEndpoint() {
    return this == OLLAMA || this == OPENAI_COMPATIBLE || this == AZURE_OPENAI;
  }

  /** Whether the provider needs an API key (a local Ollama does not). */
  public boolean requiresSecret() {
    return this != OLLAMA;
  }

  /** Looks a provider up by its API name. */
  public static Optional<Provider> fromWireName(String name) {
    return Arrays.stream(values()).filter(p -> p.wireName.equals(name)).findFirst();
  }
}
