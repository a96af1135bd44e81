package dev.tollgate.simulator;

import com.fasterxml.jackson.databind.JsonNode;

/** One call: the decoded request plus what to answer; {@code request} is the body as sent. */
record Call(
    Dialect dialect,
    boolean stream,
    boolean includeUsage,
    String model,
    int input,
    int output,
    boolean truncated,
    boolean toolCall,
    SimulatorBehavior b,
    int cacheRead,
    int cacheWrite,
    JsonNode request) {

  /** The thinking the simulated Claude does when asked to think. */
  static final String THOUGHT = "Let me think this through.";

  /** The signature of {@link #THOUGHT}, as Claude signs a thinking block. */
  static final String THOUGHT_SIGNATURE = "EqoBCkgIARABGAIiQL2sim";

  /**
   * Whether the request asks a Claude model to think: Messages {@code thinking.type: enabled}, or
   * on Bedrock the same object in {@code additionalModelRequestFields} for a Claude model.
   */
  boolean thinks() {
    if (request == null || toolCall) {
      return false;
    }
    if ("enabled".equals(request.path("thinking").path("type").asText())) {
      return true;
    }
    return model != null
        && model.contains("claude")
        && "enabled"
            .equals(
                request
                    .path("additionalModelRequestFields")
                    .path("thinking")
                    .path("type")
                    .asText());
  }

  /**
   * Decodes a request.
   *
   * @param hit what the simulated prompt cache holds for it, or null when prompt caching is off
   *     (then the behaviour's fixed cache numbers apply)
   */
  static Call of(
      Dialect dialect,
      String path,
      JsonNode json,
      int bodyBytes,
      SimulatorBehavior b,
      SimulatedPromptCache.Hit hit) {
    boolean stream = dialect.streams(path, json);
    boolean includeUsage = json.path("stream_options").path("include_usage").asBoolean();
    String model = dialect.model(path, json);
    int output = Math.min(b.outputTokens(), dialect.maxTokens(json));
    int cacheRead = hit != null ? hit.read() : b.cacheReadTokens();
    int cacheWrite =
        !dialect.reportsCacheWrites() ? 0 : hit != null ? hit.write() : b.cacheWriteTokens();
    int input =
        b.inputTokens() != null
            ? b.inputTokens()
            : Math.max(1, bodyBytes / 4 - (hit != null ? hit.read() + hit.write() : 0));
    String forced = dialect.forcedTool(json);
    if (forced != null && !forced.equals(b.toolCallName())) {
      b = b.withToolCall(forced, "{}");
    }
    boolean hasTools = dialect.tools(json).size() > 0 && b.toolCallName() != null;
    return new Call(
        dialect,
        stream,
        includeUsage,
        model,
        input,
        output,
        output < b.outputTokens(),
        hasTools,
        b,
        cacheRead,
        cacheWrite,
        json);
  }

  /** The deterministic answer text: {@code t0 t1 t2 ...}, one token each. */
  static String token(int i) {
    return (i == 0 ? "" : " ") + "t" + i;
  }

  static String text(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(token(i));
    }
    return sb.toString();
  }
}
