package dev.tollgate.sidecar.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.StreamEncoder;
import java.util.List;

/**
 * Anthropic's token counting ({@code POST /v1/messages/count_tokens}, which Claude Code calls every
 * turn): routed by the route alias in {@code model} like {@code /v1/messages}, so the count is the
 * one of the model that would serve the call, and forwarded as sent to Anthropic. Free: the call is
 * metered with zero tokens and never counts as spend. Other providers refuse it with a 400.
 */
final class AnthropicCountTokensFormat extends EndpointFormat {
  private final AnthropicMessagesFormat messages = new AnthropicMessagesFormat();

  AnthropicCountTokensFormat() {
    super(
        ApiFormat.ANTHROPIC_COUNT_TOKENS,
        "POST /v1/messages/count_tokens",
        "the sidecar counts tokens at Anthropic credentials only; route this model to an"
            + " anthropic credential",
        "token counting");
  }

  /** The provider's JSON, kept whole as the answer's text (a response-cache hit). */
  @Override
  public ObjectNode renderResponse(ChatResponse response) {
    return cachedJson(response, "token count");
  }

  @Override
  public StreamEncoder streamEncoder(boolean includeUsage) {
    return new AnthropicWire.Encoder(); // never streams; errors only
  }

  @Override
  public ObjectNode errorBody(ErrorKind kind, String message) {
    return AnthropicWire.errorBody(kind, message);
  }

  @Override
  public String finishReason(FinishReason finish) {
    return null; // a count has no finish reason
  }

  @Override
  public List<String> forwardedHeaders() {
    return messages.forwardedHeaders();
  }

  @Override
  public String answerVaryingHeader() {
    return messages.answerVaryingHeader();
  }

  @Override
  public PromptCacheMarker.CallerMarks cacheMarks(JsonNode body) {
    return messages.cacheMarks(body);
  }

  @Override
  public boolean samples() {
    return false;
  }

  @Override
  public String label() {
    return "count_tokens";
  }
}
