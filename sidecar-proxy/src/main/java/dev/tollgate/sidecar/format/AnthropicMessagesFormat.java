package dev.tollgate.sidecar.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.StreamEncoder;
import java.util.List;

/**
 * Anthropic's Messages ({@code POST /v1/messages}), written by the Anthropic provider's codec,
 * which speaks the same dialect upstream.
 */
final class AnthropicMessagesFormat implements CallerFormat {
  @Override
  public ApiFormat api() {
    return ApiFormat.ANTHROPIC;
  }

  @Override
  public ChatRequest parseRequest(JsonNode body) {
    return AnthropicWire.parseRequest(body);
  }

  @Override
  public ObjectNode renderResponse(ChatResponse response) {
    return AnthropicWire.renderResponse(response);
  }

  @Override
  public StreamEncoder streamEncoder(boolean includeUsage) {
    return new AnthropicWire.Encoder();
  }

  @Override
  public ObjectNode errorBody(ErrorKind kind, String message) {
    return AnthropicWire.errorBody(kind, message);
  }

  @Override
  public String finishReason(FinishReason finish) {
    return finish.anthropic();
  }

  /** The caller's API version and beta features, since its body is forwarded as sent. */
  @Override
  public List<String> forwardedHeaders() {
    return List.of("anthropic-version", "anthropic-beta");
  }

  @Override
  public String answerVaryingHeader() {
    return "anthropic-beta";
  }

  @Override
  public PromptCacheMarker.CallerMarks cacheMarks(JsonNode body) {
    return PromptCacheMarker.CallerMarks.ofAnthropic(body);
  }
}
