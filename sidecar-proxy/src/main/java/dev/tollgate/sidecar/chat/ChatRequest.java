package dev.tollgate.sidecar.chat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A chat request in a provider-neutral form: what the OpenAI and Anthropic caller formats and the
 * OpenAI, Anthropic and Gemini provider formats have in common. Translation between two formats
 * always goes through it; a request served in its own format is forwarded as sent instead.
 *
 * @param system the system prompt, or null
 * @param maxTokens cap on output tokens, or null
 * @param temperature sampling temperature, or null (not money, so a double is fine)
 * @param stop stop sequences
 * @param tools tools the model may call
 * @param toolChoice how the model may use them, or null for the provider's default
 */
public record ChatRequest(
    String model,
    String system,
    List<Message> messages,
    Integer maxTokens,
    Double temperature,
    Double topP,
    List<String> stop,
    List<Tool> tools,
    ToolChoice toolChoice,
    boolean stream) {

  public ChatRequest {
    messages = List.copyOf(messages);
    stop = stop == null ? List.of() : List.copyOf(stop);
    tools = tools == null ? List.of() : List.copyOf(tools);
  }

  /**
   * Who said it. Tool results are their own role in OpenAI's format and user content in
   * Anthropic's.
   */
  public enum Role {
    USER,
    ASSISTANT,
    TOOL
  }

  /** One turn. */
  public record Message(Role role, List<Part> parts) {
    public Message {
      parts = List.copyOf(parts);
    }
  }

  /** A piece of a message. */
  public sealed interface Part permits Text, ToolCall, ToolResult {}

  public record Text(String text) implements Part {}

  /** The model asks for a tool; {@code argumentsJson} is a JSON object as text. */
  public record ToolCall(String id, String name, String argumentsJson) implements Part {}

  /** The caller answers a tool call. */
  public record ToolResult(String toolCallId, String content, boolean isError) implements Part {}

  /** A callable tool; {@code parameters} is its JSON schema. */
  public record Tool(String name, String description, JsonNode parameters) {}

  /** AUTO: model decides; NONE: no tools; ANY: must call one; NAMED: must call {@code name}. */
  public record ToolChoice(Mode mode, String name) {
    public enum Mode {
      AUTO,
      NONE,
      ANY,
      NAMED
    }
  }
}
