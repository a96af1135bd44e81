package dev.tollgate.sidecar.wire;

import dev.tollgate.sidecar.chat.StreamEvent;
import java.util.List;

/** Turns one provider's SSE events into neutral stream events. Throws {@link ProxyException}. */
public interface StreamDecoder {
  /** One SSE event: its {@code event:} name (may be null) and its {@code data:} text. */
  List<StreamEvent> onEvent(String event, String data);

  /**
   * The upstream body ended. Providers that mark the end in-band (OpenAI's {@code [DONE]},
   * Anthropic's {@code message_stop}) have already produced {@link StreamEvent.End}; for Gemini the
   * end of the body is the end of the answer.
   */
  List<StreamEvent> onEndOfBody();
}
