package dev.tollgate.sidecar.chat;

/**
 * Tokens of one call, split the way they are priced: {@code inputTokens} excludes cached tokens
 * (OpenAI and Gemini count those inside the prompt; they are subtracted when read).
 */
public record Usage(
    long inputTokens, long outputTokens, long cacheReadTokens, long cacheWriteTokens) {
  public static final Usage ZERO = new Usage(0, 0, 0, 0);

  /** All input tokens including cached ones, as OpenAI reports {@code prompt_tokens}. */
  public long promptTokens() {
    return inputTokens + cacheReadTokens + cacheWriteTokens;
  }
}
