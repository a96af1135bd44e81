package dev.tollgate.sidecar.chat;

/** One step of a streamed answer in provider-neutral form. */
public sealed interface StreamEvent {
  /** The answer begins. */
  record Start(String id, String model) implements StreamEvent {}

  /** More text. */
  record TextDelta(String text) implements StreamEvent {}

  /**
   * Answer text known only by its length in chars: what {@link
   * dev.tollgate.sidecar.wire.StreamDecoder#onMeteredEvent} reports for text it relays unparsed.
   */
  record Delivered(int chars) implements StreamEvent {
    /** The events for {@code chars} of relayed text: none for none. */
    public static java.util.List<StreamEvent> of(int chars) {
      return chars == 0 ? java.util.List.of() : java.util.List.of(new Delivered(chars));
    }
  }

  /** A tool call begins; {@code index} numbers the calls of this answer from 0. */
  record ToolCallStart(int index, String id, String name) implements StreamEvent {}

  /** More JSON text of a tool call's arguments. */
  record ToolArgsDelta(int index, String json) implements StreamEvent {}

  /**
   * More of the model's extended thinking (Anthropic {@code thinking_delta}, Bedrock {@code
   * reasoningContent.text}). Only Claude-family sources emit it, so that every thinking block a
   * caller receives ends with the {@link ThinkingSignature} that lets Claude verify it next turn.
   */
  record ThinkingDelta(String text) implements StreamEvent {}

  /**
   * The signature closing the current thinking block (Anthropic {@code signature_delta}, Bedrock
   * {@code reasoningContent.signature}); thinking after it is a new block.
   */
  record ThinkingSignature(String signature) implements StreamEvent {}

  /** A whole redacted thinking block: encrypted {@code data} only (Claude family). */
  record RedactedThinking(String data) implements StreamEvent {}

  /** Log probabilities of the tokens of the text that follows (or that came in the same chunk). */
  record Logprobs(java.util.List<TokenLogprob> tokens) implements StreamEvent {}

  /**
   * One Anthropic citation of the text block being streamed ({@code citations_delta}), kept as
   * sent: only Messages callers and targets carry citations.
   */
  record Citation(com.fasterxml.jackson.databind.JsonNode citation) implements StreamEvent {}

  /** The model stopped. */
  record Finish(FinishReason reason) implements StreamEvent {}

  /**
   * Usage as far as known. Providers report it in pieces (Anthropic: input at start, output at the
   * end; Gemini: running totals); fields of -1 are "not in this event".
   */
  record UsageUpdate(long input, long output, long cacheRead, long cacheWrite)
      implements StreamEvent {}

  /** The provider ended the stream properly. */
  record End() implements StreamEvent {}
}
