package dev.tollgate.sidecar.routing;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.Function;

/**
 * What tier rules look at in one request: an input-token estimate, the last user message, the
 * caller's headers and an optional classifier label.
 *
 * @param estimatedInputTokens characters of all message and system text divided by 4 (rounded up):
 *     cheap, tokenizer-free, and close enough for English prose to choose a tier
 * @param lastUserText text of the last user message, for keyword and pattern rules
 * @param header looks a request header up by name, null when absent
 * @param classifierLabel label from the route's classifier, or null
 */
public record RequestFacts(
    int estimatedInputTokens,
    String lastUserText,
    Function<String, String> header,
    String classifierLabel) {

  /** Facts of a request body in either caller format. */
  public static RequestFacts of(JsonNode body, Function<String, String> header) {
    return new RequestFacts(estimateInputTokens(body), lastUserText(body), header, null);
  }

  public RequestFacts withClassifierLabel(String label) {
    return new RequestFacts(estimatedInputTokens, lastUserText, header, label);
  }

  /**
   * chars/4 over the system prompt and every message's text parts (chat in both API formats), or
   * over the instructions and {@code input} (Responses input items, embedding inputs).
   */
  static int estimateInputTokens(JsonNode body) {
    long chars = text(body.path("system")).length() + text(body.path("instructions")).length();
    for (JsonNode m : body.path("messages")) {
      chars += text(m.path("content")).length();
    }
    JsonNode input = body.path("input");
    if (input.isTextual()) {
      chars += input.asText().length();
    }
    for (JsonNode item : input) {
      chars += item.isTextual() ? item.asText().length() : text(item.path("content")).length();
    }
    return (int) Math.min(Integer.MAX_VALUE, (chars + 3) / 4);
  }

  /** The text of the last user message (a Responses {@code input} too), or "". */
  static String lastUserText(JsonNode body) {
    JsonNode messages = body.has("messages") ? body.path("messages") : body.path("input");
    if (messages.isTextual()) {
      return messages.asText();
    }
    for (int i = messages.size() - 1; i >= 0; i--) {
      JsonNode m = messages.get(i);
      if ("user".equals(m.path("role").asText())) {
        return text(m.path("content"));
      }
    }
    return "";
  }

  /** A string content, or the concatenated {@code text} of content parts. */
  private static String text(JsonNode content) {
    if (content.isTextual()) {
      return content.asText();
    }
    StringBuilder sb = new StringBuilder();
    content.forEach(part -> sb.append(part.path("text").asText("")));
    return sb.toString();
  }
}
