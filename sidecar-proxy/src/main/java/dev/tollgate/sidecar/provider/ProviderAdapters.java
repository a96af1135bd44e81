package dev.tollgate.sidecar.provider;

import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.provider.anthropic.AnthropicAdapter;
import dev.tollgate.sidecar.provider.bedrock.BedrockAdapter;
import dev.tollgate.sidecar.provider.gemini.GeminiAdapter;
import dev.tollgate.sidecar.provider.openai.OpenAiAdapter;
import dev.tollgate.sidecar.provider.vertex.VertexAdapter;
import java.util.EnumMap;
import java.util.Map;

/** The registration of every provider package: one line per provider kind. */
public final class ProviderAdapters {
  private static final Map<ProviderKind, ProviderAdapter> ADAPTERS =
      new EnumMap<>(ProviderKind.class);

  static {
    ProviderAdapter openAi = new OpenAiAdapter(); // and its compatibles, Azure included
    for (ProviderKind k : ProviderKind.values()) {
      ADAPTERS.put(k, openAi);
    }
    ADAPTERS.put(ProviderKind.ANTHROPIC, new AnthropicAdapter());
    ADAPTERS.put(ProviderKind.GEMINI, new GeminiAdapter());
    ADAPTERS.put(ProviderKind.BEDROCK, new BedrockAdapter());
    ADAPTERS.put(ProviderKind.VERTEX_AI, new VertexAdapter());
  }

  private ProviderAdapters() {}

  /** The adapter for {@code provider}. */
  public static ProviderAdapter forProvider(ProviderKind provider) {
    return ADAPTERS.get(provider);
  }
}
