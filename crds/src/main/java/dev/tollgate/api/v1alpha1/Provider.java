package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Optional;

/** The LLM providers Tollgate can call, spelled as in {@code ProviderCredential.spec.provider}. */
public enum Provider {
  @JsonProperty("openai")
  OPENAI("openai", "https://api.openai.com/v1"),
  @JsonProperty("anthropic")
  ANTHROPIC("anthropic", "https://api.anthropic.com"),
  @JsonProperty("gemini")
  GEMINI("gemini", "https://generativelanguage.googleapis.com"),
  @JsonProperty("vertex-ai")
  VERTEX_AI("vertex-ai", null),
  @JsonProperty("bedrock")
  BEDROCK("bedrock", null),
  @JsonProperty("azure-openai")
  AZURE_OPENAI("azure-openai", null),
  @JsonProperty("groq")
  GROQ("groq", "https://api.groq.com/openai/v1"),
  @JsonProperty("mistral")
  MISTRAL("mistral", "https://api.mistral.ai/v1"),
  @JsonProperty("cohere")
  COHERE("cohere", "https://api.cohere.com/compatibility/v1"),
  @JsonProperty("ollama")
  OLLAMA("ollama", null),
  @JsonProperty("openai-compatible")
  OPENAI_COMPATIBLE("openai-compatible", null);

  private final String wireName;
  private final String defaultEndpoint;

  Provider(String wireName, String defaultEndpoint) {
    this.wireName = wireName;
    this.defaultEndpoint = defaultEndpoint;
  }

  /** The name used in the API ({@code openai}, {@code vertex-ai}, ...). */
  @JsonValue
  public String wireName() {
    return wireName;
  }

  /**
   * The public endpoint used when {@code spec.endpoint} is empty; empty for providers whose URL
   * depends on the account (Azure, Bedrock region, Vertex project) or that run anywhere (Ollama,
   * generic OpenAI-compatible servers).
   */
  public Optional<String> defaultEndpoint() {
    return Optional.ofNullable(defaultEndpoint);
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
