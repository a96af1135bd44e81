package dev.tollgate.sidecar.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.StreamEncoder;
import java.util.List;

/**
 * OpenAI's Chat Completions ({@code POST /v1/chat/completions}), written by the OpenAI provider's
 * codec, which speaks the same dialect upstream.
 */
final class OpenAiChatFormat implements CallerFormat {
  @Override
  public ApiFormat api() {
    return ApiFormat.OPENAI;
  }

  @Override
  public ChatRequest parseRequest(JsonNode body) {
    return OpenAiWire.parseRequest(body);
  }

  @Override
  public ObjectNode renderResponse(ChatResponse response) {
    return OpenAiWire.renderResponse(response);
  }

  @Override
  public StreamEncoder streamEncoder(boolean includeUsage) {
    return new OpenAiWire.Encoder(includeUsage);
  }

  @Override
  public ObjectNode errorBody(ErrorKind kind, String message) {
    return OpenAiWire.errorBody(kind, message);
  }

  @Override
  public String finishReason(FinishReason finish) {
    return finish.openAi();
  }

  @Override
  public boolean wantsStreamUsage(JsonNode body) {
    return body.path("stream_options").path("include_usage").asBoolean(false);
  }

  @Override
  public boolean hidesForwarded(List<StreamEvent> events, boolean callerWantsUsage) {
    return !callerWantsUsage
        && events.size() == 1
        && events.get(0) instanceof StreamEvent.UsageUpdate;
  }

  @Override
  public PromptCacheMarker.CallerMarks cacheMarks(JsonNode body) {
    return PromptCacheMarker.CallerMarks.ofOpenAi(body);
  }
}
