package dev.tollgate.sidecar.wire;

/**
 * The APIs applications call the sidecar with, by name; what each one means (parse, render, stream,
 * errors) is its {@code format.CallerFormat}.
 */
public enum ApiFormat {
  /** OpenAI Chat Completions, {@code /v1/chat/completions}. */
  OPENAI,
  /** Anthropic Messages, {@code /v1/messages}. */
  ANTHROPIC,
  /** OpenAI Embeddings, {@code /v1/embeddings}. */
  OPENAI_EMBEDDINGS,
  /** OpenAI Responses, {@code /v1/responses}. */
  OPENAI_RESPONSES,
  /** Anthropic token counting, {@code /v1/messages/count_tokens}. */
  ANTHROPIC_COUNT_TOKENS,
  /** OpenAI's legacy completions, {@code /v1/completions}. */
  OPENAI_COMPLETIONS;

  /** The format a path belongs to, for errors before a request is understood. */
  public static ApiFormat forPath(String path) {
    if (path.startsWith("/v1/messages/count_tokens")) {
      return ANTHROPIC_COUNT_TOKENS;
    }
    if (path.startsWith("/v1/messages")) {
      return ANTHROPIC;
    }
    if (path.startsWith("/v1/responses")) {
      return OPENAI_RESPONSES;
    }
    if (path.startsWith("/v1/completions")) {
      return OPENAI_COMPLETIONS;
    }
    return path.startsWith("/v1/embeddings") ? OPENAI_EMBEDDINGS : OPENAI;
  }
}
