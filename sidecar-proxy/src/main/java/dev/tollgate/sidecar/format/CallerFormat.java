package dev.tollgate.sidecar.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.InvalidRequest;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamEncoder;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One API that applications call the sidecar with (an endpoint's request and answer shapes): how
 * its requests are read into the neutral model, how answers, streams and errors are written back in
 * it, and what of it is forwarded as sent to a provider that speaks it. One stateless instance per
 * format, registered in {@link #of}.
 */
public interface CallerFormat {
  /** The format's name (the call record's {@code api}, the cache key's format). */
  ApiFormat api();

  /** The request as the neutral model, for translation to another provider format. */
  ChatRequest parseRequest(JsonNode body);

  /** A whole answer in this format. */
  ObjectNode renderResponse(ChatResponse response);

  /**
   * A whole answer rewritten from a provider's own shape, for the caller's {@code request} (its
   * encoding options); {@link #renderResponse(ChatResponse)} by default.
   */
  default ObjectNode renderResponse(ChatResponse response, JsonNode request) {
    return renderResponse(response);
  }

  /**
   * A new encoder of neutral stream events as this format's SSE text (one per stream: it keeps the
   * stream's state).
   *
   * @param includeUsage the caller asked for the usage in the stream ({@link #wantsStreamUsage})
   */
  StreamEncoder streamEncoder(boolean includeUsage);

  /** The error body of this format. */
  ObjectNode errorBody(ErrorKind kind, String message);

  /**
   * The error body of {@code e}: {@link #errorBody(ErrorKind, String)}, with the field at fault and
   * its code where this format's body has a place for them (OpenAI's {@code param}, {@code code}).
   */
  default ObjectNode errorBody(ProxyException e) {
    ObjectNode body = errorBody(e.kind(), e.getMessage());
    if (e instanceof InvalidRequest invalid) {
      invalid.decorate(body);
    }
    return body;
  }

  /** A well-formed error event that ends a stream already under way. */
  default String streamError(ErrorKind kind, String message) {
    return streamEncoder(false).error(kind, message);
  }

  /** The finish reason as this format spells it. */
  String finishReason(FinishReason finish);

  /** Whether the caller asked for usage in the stream (OpenAI's {@code stream_options}). */
  default boolean wantsStreamUsage(JsonNode body) {
    return false;
  }

  /**
   * Whether a provider event forwarded as sent is the sidecar's own and must not reach the caller
   * (OpenAI's usage chunk, always asked for metering).
   */
  default boolean hidesForwarded(List<StreamEvent> events, boolean callerWantsUsage) {
    return false;
  }

  /** Caller headers sent on to a provider when the body is forwarded as sent (API versions). */
  default List<String> forwardedHeaders() {
    return List.of();
  }

  /** A caller header whose value changes the answer, so it is part of the cache key, or null. */
  default String answerVaryingHeader() {
    return null;
  }

  /**
   * Whether answers are sampled, so that the response cache applies the route's temperature bound;
   * embeddings and token counts are deterministic.
   */
  default boolean samples() {
    return true;
  }

  /** The cache marks the caller placed in its request. */
  PromptCacheMarker.CallerMarks cacheMarks(JsonNode body);

  /**
   * The adapter that serves this format's calls at a provider whose chat adapter is {@code
   * provider}: that adapter itself for the chat formats; for the other endpoints (embeddings, token
   * counting, Responses) the provider's adapter of that endpoint, or one that refuses the call with
   * a 400 naming what the provider cannot serve.
   */
  default ProviderAdapter adapterFor(ProviderAdapter provider) {
    return provider;
  }

  /** The lower-case name of the format, as call records and logs spell it. */
  default String label() {
    return api().name().toLowerCase(Locale.ROOT);
  }

  /** The format named {@code api}. */
  static CallerFormat of(ApiFormat api) {
    return Registry.FORMATS.get(api);
  }

  /** The registration of every caller format: one line per format. */
  final class Registry {
    private static final Map<ApiFormat, CallerFormat> FORMATS = new EnumMap<>(ApiFormat.class);

    static {
      register(new OpenAiChatFormat());
      register(new AnthropicMessagesFormat());
      register(new OpenAiEmbeddingsFormat());
      register(new AnthropicCountTokensFormat());
      register(new OpenAiResponsesFormat());
      register(new OpenAiCompletionsFormat());
    }

    private Registry() {}

    private static void register(CallerFormat f) {
      FORMATS.put(f.api(), f);
    }
  }
}
