package dev.tollgate.sidecar.chat;

import java.util.List;
import java.util.Locale;

/**
 * How much a model may think, across the providers' three ways of saying it: OpenAI's {@code
 * reasoning_effort} (a level), Anthropic's {@code thinking.budget_tokens} (also Claude on Bedrock
 * and Vertex AI), and Gemini's {@code thinkingConfig} ({@code thinkingBudget} for Gemini 2.5,
 * {@code thinkingLevel} for Gemini 3 and later).
 *
 * <p>Levels become budgets as Google's OpenAI-compatibility layer maps them ("low", "medium" and
 * "high" to 1,024, 8,192 and 24,576 thinking tokens), the one mapping a provider documents; {@code
 * minimal} is Claude's minimum budget (1,024), {@code xhigh} Gemini 2.5 Pro's maximum (32,768) and
 * {@code none} no thinking. Budgets become levels by the same thresholds.
 */
public final class Reasoning {
  /** OpenAI's {@code reasoning_effort} values. */
  public static final List<String> EFFORTS =
      List.of("none", "minimal", "low", "medium", "high", "xhigh");

  /** Claude's smallest thinking budget: {@code budget_tokens} must be at least this. */
  public static final int CLAUDE_MIN_BUDGET = 1024;

  private Reasoning() {}

  /** The thinking budget of an effort level; 0 for {@code none}. */
  public static int budget(String effort) {
    return switch (effort) {
      case "none" -> 0;
      case "minimal", "low" -> 1024;
      case "medium" -> 8192;
      case "xhigh" -> 32768;
      default -> 24576; // high
    };
  }

  /** The effort level closest to a budget. */
  public static String effort(int budget) {
    return budget <= 1024 ? "low" : budget <= 8192 ? "medium" : "high";
  }

  /**
   * The thinking budget to send a Claude model: the caller's own ({@code thinking.budget_tokens},
   * as sent), else one from {@code reasoning_effort} that fits below {@code max_tokens} (Claude
   * requires {@code budget_tokens < max_tokens}); null for no thinking: effort {@code none}, a cap
   * too small to think in, or a request that forces a tool call (Claude refuses thinking with a
   * forced tool, which structured output uses).
   */
  public static Integer claudeBudget(ChatRequest r) {
    if (r.thinkingBudget() != null) {
      return r.thinkingBudget();
    }
    if (r.reasoningEffort() == null || "none".equals(r.reasoningEffort())) {
      return null;
    }
    ChatRequest.ToolChoice tc = r.toolChoice();
    if (r.responseFormat() != null
        || tc != null
            && (tc.mode() == ChatRequest.ToolChoice.Mode.ANY
                || tc.mode() == ChatRequest.ToolChoice.Mode.NAMED)) {
      return null;
    }
    int budget = budget(r.reasoningEffort());
    if (r.maxTokens() != null) {
      budget = Math.min(budget, r.maxTokens() - 1);
    }
    return budget < CLAUDE_MIN_BUDGET ? null : budget;
  }

  /**
   * The {@code max_tokens} to send a Claude model: the caller's, else room for the thinking budget
   * plus {@code fallback} tokens of answer (OpenAI counts reasoning inside its cap, and no cap
   * means none).
   */
  public static int claudeMaxTokens(ChatRequest r, int fallback) {
    if (r.maxTokens() != null) {
      return r.maxTokens();
    }
    Integer budget = r.thinkingBudget() == null ? claudeBudget(r) : null;
    return budget == null ? fallback : budget + fallback;
  }

  /** Whether Claude's thinking was switched on here from an OpenAI effort (not by the caller). */
  public static boolean derivedThinking(ChatRequest r) {
    return r.thinkingBudget() == null && claudeBudget(r) != null;
  }

  /**
   * Whether {@code model} is an OpenAI reasoning model ({@code o1}, {@code o3}, {@code gpt-5}...).
   */
  public static boolean openAiReasoningModel(String model) {
    if (model == null) {
      return false;
    }
    String m = model.toLowerCase(Locale.ROOT);
    return m.matches("o\\d.*") || m.startsWith("gpt-5");
  }

  /** The effort to send an OpenAI reasoning model: the caller's, else from a thinking budget. */
  public static String openAiEffort(ChatRequest r) {
    if (r.reasoningEffort() != null) {
      return r.reasoningEffort();
    }
    return r.thinkingBudget() == null ? null : effort(r.thinkingBudget());
  }
}
