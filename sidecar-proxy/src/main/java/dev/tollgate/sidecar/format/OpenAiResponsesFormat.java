package dev.tollgate.sidecar.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.provider.openai.ResponsesWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.StreamEncoder;

/**
 * OpenAI's Responses API ({@code POST /v1/responses}), routed by the same route alias as chat:
 * forwarded as sent to OpenAI-format targets that serve it, translated through the neutral model
 * for the others (Anthropic, Gemini, Bedrock, Vertex AI), with a 400 for what only OpenAI can serve
 * ({@link ResponsesWire}).
 */
final class OpenAiResponsesFormat implements CallerFormat {
  @Override
  public ApiFormat api() {
    return ApiFormat.OPENAI_RESPONSES;
  }

  /** The provider's Responses endpoint when it has one, else its chat API through translation. */
  @Override
  public ProviderAdapter adapterFor(ProviderAdapter provider) {
    ProviderAdapter a = provider.endpoint(api());
    return a != null ? a : provider;
  }

  @Override
  public ChatRequest parseRequest(JsonNode body) {
    return ResponsesWire.parseRequest(body);
  }

  @Override
  public ObjectNode renderResponse(ChatResponse response) {
    return ResponsesWire.renderResponse(response);
  }

  @Override
  public StreamEncoder streamEncoder(boolean includeUsage) {
    return new ResponsesWire.Encoder();
  }

  @Override
  public ObjectNode errorBody(ErrorKind kind, String message) {
    return OpenAiWire.errorBody(kind, message);
  }

  @Override
  public String finishReason(FinishReason finish) {
    return finish.openAi();
  }

  /** Responses callers cannot place cache marks (OpenAI caches prefixes on its own). */
  @Override
  public PromptCacheMarker.CallerMarks cacheMarks(JsonNode body) {
    return PromptCacheMarker.CallerMarks.ofOpenAi(MissingNode.getInstance());
  }

  @Override
  public String label() {
    return "responses";
  }
}
