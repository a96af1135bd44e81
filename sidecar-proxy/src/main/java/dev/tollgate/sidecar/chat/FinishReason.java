package dev.tollgate.sidecar.chat;

/** Why the model stopped, in terms every format can express. */
public enum FinishReason {
  STOP,
  STOP_SEQUENCE,
  LENGTH,
  TOOL_CALLS,
  CONTENT_FILTER,
  OTHER;

  public String openAi() {
    return switch (this) {
      case STOP, STOP_SEQUENCE, OTHER -> "stop";
      case LENGTH -> "length";
      case TOOL_CALLS -> "tool_calls";
      case CONTENT_FILTER -> "content_filter";
    };
  }

  public String anthropic() {
    return switch (this) {
      case STOP, OTHER, CONTENT_FILTER -> "end_turn";
      case STOP_SEQUENCE -> "stop_sequence";
      case LENGTH -> "max_tokens";
      case TOOL_CALLS -> "tool_use";
    };
  }

  public static FinishReason fromOpenAi(String s) {
    if (s == null) {
      return OTHER;
    }
    return switch (s) {
      case "stop" -> STOP;
      case "length" -> LENGTH;
      case "tool_calls", "function_call" -> TOOL_CALLS;
      case "content_filter" -> CONTENT_FILTER;
      default -> OTHER;
    };
  }

  public static FinishReason fromAnthropic(String s) {
    if (s == null) {
      return OTHER;
    }
    return switch (s) {
      case "end_turn" -> STOP;
      case "stop_sequence" -> STOP_SEQUENCE;
      case "max_tokens" -> LENGTH;
      case "tool_use" -> TOOL_CALLS;
      case "refusal" -> CONTENT_FILTER;
      default -> OTHER;
    };
  }

  public static FinishReason fromGemini(String s) {
    if (s == null) {
      return OTHER;
    }
    return switch (s) {
      case "STOP" -> STOP;
      case "MAX_TOKENS" -> LENGTH;
      case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII" -> CONTENT_FILTER;
      default -> OTHER;
    };
  }
}
