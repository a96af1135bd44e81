package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.provider.openai.ResponsesWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import java.util.Locale;

/**
 * Which passthrough answers are priced, and their usage: a POST that generates something (not a
 * file, batch or upload operation, not a cancel) whose JSON answer carries a {@code usage} object
 * in the caller's format: OpenAI's {@code prompt_tokens}/{@code completion_tokens} (Mistral's FIM
 * and agents completions, OpenAI-compatible servers' own endpoints), Responses-style {@code
 * input_tokens}/{@code output_tokens}, or Anthropic's. Batch results are not priced here: a batch
 * is metered by its own owner, once.
 */
final class PassthroughUsage {
  /** The most of an answer kept to read its usage; larger answers are not priced (counted). */
  static final int MAX_CAPTURED_BYTES = 256 * 1024;

  private PassthroughUsage() {}

  /** Whether the answer to {@code method path} may be priced from its usage. */
  static boolean priceable(String method, String path) {
    if (!"POST".equals(method)) {
      return false; // reading a stored object again must not charge it again
    }
    String p = path.toLowerCase(Locale.ROOT);
    return !(p.contains("/batches")
        || p.contains("/files")
        || p.contains("/uploads")
        || p.endsWith("/cancel")
        || p.contains("/count_tokens"));
  }

  /** The usage of {@code body} (an answer in {@code format}); null when it carries none. */
  static Usage read(ApiFormat format, JsonNode body) {
    if (body == null || !body.isObject() || !body.path("usage").isObject()) {
      return null;
    }
    JsonNode u = body.get("usage");
    if (format == ApiFormat.ANTHROPIC || format == ApiFormat.ANTHROPIC_COUNT_TOKENS) {
      return AnthropicWire.readUsage(u);
    }
    if (u.has("prompt_tokens")) {
      return OpenAiWire.readUsage(u);
    }
    if (u.has("input_tokens") && u.path("input_tokens").canConvertToExactIntegral()) {
      return ResponsesWire.readUsage(u);
    }
    return null;
  }
}
