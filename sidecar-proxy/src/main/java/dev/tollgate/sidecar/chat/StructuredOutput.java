package dev.tollgate.sidecar.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.ChatRequest.ResponseFormat;
import dev.tollgate.sidecar.wire.Json;

/**
 * Structured output for APIs without a JSON mode of their own (Anthropic Messages, Bedrock
 * Converse): the request declares one tool, {@link #TOOL}, whose input schema is the wanted schema,
 * and forces the model to call it; the answer's call of that tool is read back as the answer's
 * text, so the caller sees JSON content as its own provider would have returned it (this is the
 * approach Anthropic documents for JSON output through tools).
 */
public final class StructuredOutput {
  /** The tool's name: reserved, so a call of it in an answer is always the structured answer. */
  public static final String TOOL = "tollgate_structured_output";

  private StructuredOutput() {}

  /** The tool's input schema: the wanted schema, or any JSON object for {@code json_object}. */
  public static JsonNode schema(ResponseFormat f) {
    return f.hasSchema() ? f.schema() : Json.object().put("type", "object");
  }

  /** The tool's description, telling the model what it is for. */
  public static String description(ResponseFormat f) {
    return "Give your complete answer by calling this tool, with the answer as its input"
        + (f.name() != null ? " (" + f.name() + ")" : "")
        + ".";
  }

  /** Whether a tool call of {@code name} is the structured answer. */
  public static boolean isAnswer(String name) {
    return TOOL.equals(name);
  }
}
