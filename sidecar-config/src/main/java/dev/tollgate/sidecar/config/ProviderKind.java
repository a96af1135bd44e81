package dev.tollgate.sidecar.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Optional;

/**
 * The provider APIs a credential can speak, spelled as in {@code ProviderCredential.spec.provider}.
 * Mirrors the CRD's enum so that this module does not pull the Kubernetes client into the sidecar.
 */
public enum ProviderKind {
  OPENAI("openai", "https://api.openai.com/v1"),
  ANTHROPIC("anthropic", "https://api.anthropic.com"),
  GEMINI("gemini", "https://generativelanguage.googleapis.com"),
  VERTEX_AI("vertex-ai", null),
  BEDROCK("bedrock", null),
  AZURE_OPENAI("azure-openai", null),
  GROQ("groq", "https://api.groq.com/openai/v1"),
  MISTRAL("mistral", "https://api.mistral.ai/v1"),
  COHERE("cohere", "https://api.cohere.com/compatibility/v1"),
  OLLAMA("ollama", null),
  OPENAI_COMPATIBLE("openai-compatible", null);

  private final String wireName;
  private final String defaultEndpoint;

  ProviderKind(String wireName, String defaultEndpoint) {
    this.wireName = wireName;
    this.defaultEndpoint = defaultEndpoint;
  }

  @JsonValue
  public String wireName() {
    return wireName;
  }

  /** The public endpoint used when a credential names none. */
  public Optional<String> defaultEndpoint() {
    return Optional.ofNullable(defaultEndpoint);
  }

  /** Whether the credential needs an API key file (a local Ollama does not). */
  public boolean requiresApiKey() {
    return this != OLLAMA;
  }

  /** Whether the provider speaks OpenAI's chat-completions wire format. */
  public boolean speaksOpenAi() {
    return switch (this) {
      case OPENAI, AZURE_OPENAI, GROQ, MISTRAL, COHERE, OLLAMA, OPENAI_COMPATIBLE -> true;
      default -> false;
    };
  }

  @JsonCreator
  public static ProviderKind fromWireName(String name) {
    return Arrays.stream(values())
        .filter(p -> p.wireName.equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown provider '"
                        + name
                        + "'; expected one of "
                        + Arrays.stream(values()).map(ProviderKind::wireName).toList()));
  }
}
