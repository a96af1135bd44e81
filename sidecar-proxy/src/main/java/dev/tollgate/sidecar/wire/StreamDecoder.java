package dev.tollgate.sidecar.wire;

import dev.tollgate.sidecar.chat.StreamEvent;
import java.util.List;

/** Turns one provider's SSE events into neutral stream events. Throws {@link ProxyException}. */
public interface StreamDecoder {
  /** One SSE event: its {@code event:} name (may be null) and its {@code data:} text. */
  List<StreamEvent> onEvent(String event, String data);

  /**
   * One SSE event, for a relay that forwards the provider's bytes as sent and only meters them:
   * events that carry nothing but answer text may be recognised by a scan of their text instead of
   * being parsed, and come back as {@link StreamEvent.Delivered} (their text's length) or nothing;
   * everything that metering reads (the start, usage, the finish reason, tool calls, errors, the
   * end) is decoded as by {@link #onEvent}. A scanned event is not checked to be well-formed JSON.
   */
  default List<StreamEvent> onMeteredEvent(String event, String data) {
    return onEvent(event, data);
  }

  /**
   * The upstream body ended. Providers that mark the end in-band (OpenAI's {@code [DONE]},
   * Anthropic's {@code message_stop}) have already produced {@link StreamEvent.End}; for Gemini the
   * end of the body is the end of the answer.
   */
  List<StreamEvent> onEndOfBody();
}
