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
 * @param responseFormat structured output wanted, or null for text
 * @param seed sampling seed, or null
 * @param parallelToolCalls false when the model must call at most one tool per turn, or null
 * @param thinkingBudget extended thinking's token budget (Anthropic {@code thinking}), or null
 * @param reasoningEffort OpenAI's {@code reasoning_effort} ({@link Reasoning#EFFORTS}), or null
 * @param topLogprobs with OpenAI's {@code logprobs: true}, how many alternatives per token (0 to
 *     20); null when the caller asked for no log probabilities
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
    boolean stream,
    ResponseFormat responseFormat,
    Long seed,
    Boolean parallelToolCalls,
    Integer thinkingBudget,
    String reasoningEffort,
    Integer topLogprobs) {

  public ChatRequest {
    messages = List.copyOf(messages);
    stop = stop == null ? List.of() : List.copyOf(stop);
    tools = tools == null ? List.of() : List.copyOf(tools);
  }

  /** Whether the caller asked for log probabilities of the answer's tokens. */
  public boolean logprobs() {
    return topLogprobs != null;
  }

  /** A request for {@code model} of {@code messages}; the rest is set by name (null: not asked). */
  public static Builder builder(String model, List<Message> messages) {
    return new Builder(model, messages);
  }

  /** Builds a {@link ChatRequest}. */
  public static final class Builder {
    private final String model;
    private final List<Message> messages;
    private String system;
    private Integer maxTokens;
    private Double temperature;
    private Double topP;
    private List<String> stop;
    private List<Tool> tools;
    private ToolChoice toolChoice;
    private boolean stream;
    private ResponseFormat responseFormat;
    private Long seed;
    private Boolean parallelToolCalls;
    private Integer thinkingBudget;
    private String reasoningEffort;
    private Integer topLogprobs;

    private Builder(String model, List<Message> messages) {
      this.model = model;
      this.messages = messages;
    }

    public Builder system(String system) {
      this.system = system;
      return this;
    }

    public Builder maxTokens(Integer maxTokens) {
      this.maxTokens = maxTokens;
      return this;
    }

    public Builder temperature(Double temperature) {
      this.temperature = temperature;
      return this;
    }

    public Builder topP(Double topP) {
      this.topP = topP;
      return this;
    }

    public Builder stop(List<String> stop) {
      this.stop = stop;
      return this;
    }

    public Builder tools(List<Tool> tools) {
      this.tools = tools;
      return this;
    }

    public Builder toolChoice(ToolChoice toolChoice) {
      this.toolChoice = toolChoice;
      return this;
    }

    public Builder stream(boolean stream) {
      this.stream = stream;
      return this;
    }

    public Builder responseFormat(ResponseFormat responseFormat) {
      this.responseFormat = responseFormat;
      return this;
    }

    public Builder seed(Long seed) {
      this.seed = seed;
      return this;
    }

    public Builder parallelToolCalls(Boolean parallelToolCalls) {
      this.parallelToolCalls = parallelToolCalls;
      return this;
    }

    public Builder thinkingBudget(Integer thinkingBudget) {
      this.thinkingBudget = thinkingBudget;
      return this;
    }

    public Builder reasoningEffort(String reasoningEffort) {
      this.reasoningEffort = reasoningEffort;
      return this;
    }

    public Builder topLogprobs(Integer topLogprobs) {
      this.topLogprobs = topLogprobs;
      return this;
    }

    public ChatRequest build() {
      return new ChatRequest(
          model,
          system,
          messages,
          maxTokens,
          temperature,
          topP,
          stop,
          tools,
          toolChoice,
          stream,
          responseFormat,
          seed,
          parallelToolCalls,
          thinkingBudget,
          reasoningEffort,
          topLogprobs);
    }
  }

  /** Whether any message holds a part of {@code type}. */
  public boolean has(Class<? extends Part> type) {
    return messages.stream().flatMap(m -> m.parts().stream()).anyMatch(type::isInstance);
  }

  /** Every media part of the request, those inside tool results too. */
  public List<Media> media() {
    return messages.stream()
        .flatMap(m -> m.parts().stream())
        .flatMap(
            p ->
                p instanceof Media md
                    ? java.util.stream.Stream.of(md)
                    : p instanceof ToolResult tr
                        ? tr.media().stream()
                        : java.util.stream.Stream.empty())
        .toList();
  }

  /** Whether a tool result carries images or documents. */
  public boolean toolResultMedia() {
    return messages.stream()
        .flatMap(m -> m.parts().stream())
        .anyMatch(p -> p instanceof ToolResult tr && !tr.media().isEmpty());
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
  public sealed interface Part permits Text, ToolCall, ToolResult, Media, Thinking {}

  /**
   * Text; in an answer, {@code citations} are the Anthropic citations of its claims (the {@code
   * citations} array of a text block, kept as sent), null when none.
   */
  public record Text(String text, JsonNode citations) implements Part {
    public Text(String text) {
      this(text, null);
    }
  }

  /** The model asks for a tool; {@code argumentsJson} is a JSON object as text. */
  public record ToolCall(String id, String name, String argumentsJson) implements Part {}

  /**
   * The caller answers a tool call: {@code content} is its text, {@code media} the images and
   * documents the tool returned (Anthropic {@code tool_result} content blocks), empty when none.
   */
  public record ToolResult(String toolCallId, String content, boolean isError, List<Media> media)
      implements Part {
    public ToolResult {
      media = media == null ? List.of() : List.copyOf(media);
    }

    /** A text-only result. */
    public ToolResult(String toolCallId, String content, boolean isError) {
      this(toolCallId, content, isError, List.of());
    }
  }

  /**
   * An image or a document the caller attached: either inline ({@code data} is base64, with its
   * {@code mediaType}) or by {@code url} (the provider fetches it; the sidecar never does). A
   * plain-text document has {@code text} instead.
   */
  public record Media(
      Kind kind, String mediaType, String data, String url, String name, boolean citations)
      implements Part {
    /** Media without citations. */
    public Media(Kind kind, String mediaType, String data, String url, String name) {
      this(kind, mediaType, data, url, name, false);
    }

    /** This document with Anthropic citations enabled ({@code citations: {enabled: true}}). */
    public Media withCitations() {
      return new Media(kind, mediaType, data, url, name, true);
    }

    public enum Kind {
      IMAGE,
      DOCUMENT
    }

    /** Whether the provider must fetch it from a URL. */
    public boolean byUrl() {
      return url != null;
    }

    /** Inline data as a {@code data:} URL (OpenAI's way of sending bytes). */
    public String dataUrl() {
      return "data:" + mediaType + ";base64," + data;
    }

    /** The subtype of the media type ({@code png}, {@code pdf}), as Bedrock names formats. */
    public String format() {
      if (mediaType == null) {
        return null;
      }
      int slash = mediaType.indexOf('/');
      return slash < 0 ? mediaType : mediaType.substring(slash + 1);
    }

    /**
     * A short label of what it is, for errors and rerouting reasons: {@code image_url}, {@code
     * document}, ...
     */
    public String feature() {
      return (kind == Kind.IMAGE ? "image" : "document") + (byUrl() ? "_url" : "");
    }
  }

  /**
   * A model's extended thinking in an earlier assistant turn (Anthropic's {@code thinking} block,
   * Bedrock's {@code reasoningContent}), with the {@code signature} that lets the provider verify
   * it; {@code redacted} blocks carry only encrypted {@code data}. Signatures are valid only within
   * the Claude family (Anthropic, Claude on Bedrock and Vertex AI): other targets drop the part.
   */
  public record Thinking(String text, String signature, String redactedData) implements Part {
    public boolean redacted() {
      return redactedData != null;
    }
  }

  /** A callable tool; {@code parameters} is its JSON schema. */
  public record Tool(String name, String description, JsonNode parameters) {}

  /**
   * Structured output: JSON of any shape ({@code schema} null) or matching {@code schema}, which
   * has a {@code name} (OpenAI requires one) and may be {@code strict}.
   */
  public record ResponseFormat(String name, JsonNode schema, boolean strict) {
    /** Any JSON object ({@code json_object}). */
    public static final ResponseFormat JSON_OBJECT = new ResponseFormat(null, null, false);

    public boolean hasSchema() {
      return schema != null;
    }
  }

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
