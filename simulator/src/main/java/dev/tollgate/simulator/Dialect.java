package dev.tollgate.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;

/**
 * One provider API as the simulator speaks it: where a request carries its key, model, limits and
 * tools, and how answers, stream frames and errors look. One class per API; adding a simulated
 * provider means adding one class and one line in {@link #forPath}.
 */
interface Dialect {

  /** The API a request path belongs to, or null when the simulator speaks none at that path. */
  static Dialect forPath(String path) {
    for (Dialect dialect : ALL) {
      if (dialect.speaks(path)) {
        return dialect;
      }
    }
    return null;
  }

  /** In the order paths are matched. */
  List<Dialect> ALL =
      List.of(
          new OpenAiDialect(),
          new AnthropicDialect(),
          new GeminiDialect(),
          new BedrockDialect(),
          new OpenAiEmbeddingsDialect(),
          new OpenAiResponsesDialect(),
          new OpenAiCompletionsDialect(),
          new AnthropicCountTokensDialect(),
          new BedrockCountTokensDialect(),
          new EmbeddingsDialects.Gemini(),
          new EmbeddingsDialects.VertexPredict(),
          new EmbeddingsDialects.BedrockInvoke(),
          new EmbeddingsDialects.GeminiCountTokens());

  /** Whether requests are signed with SigV4 when the simulator checks AWS signatures (Bedrock). */
  default boolean signsWithAws() {
    return false;
  }

  /** Headers a whole answer carries besides its content type (Bedrock's token counts). */
  default void headers(Call call, io.netty.handler.codec.http.HttpHeaders headers) {}

  /** Whether the provider charges for the tokens of a call (not for token counting). */
  default boolean bills() {
    return true;
  }

  /** Whether requests to {@code path} speak this API. */
  boolean speaks(String path);

  /** The API key the request carries, in the header (or query parameter) the provider uses. */
  String apiKey(FullHttpRequest req, QueryStringDecoder qs);

  /**
   * The model the request names: in the body, or in the path for Vertex AI's {@code :rawPredict}
   * endpoints (OpenAI and Anthropic shapes; Gemini and Bedrock name it in the path).
   */
  default String model(String path, JsonNode json) {
    return path.contains("Predict")
        ? path.substring(path.lastIndexOf('/') + 1, path.lastIndexOf(':'))
        : json.path("model").asText("unknown");
  }

  /** Whether the caller asked for a stream ({@code "stream": true} unless the path says). */
  default boolean streams(String path, JsonNode json) {
    return json.path("stream").asBoolean();
  }

  /** The request's output limit; {@link Integer#MAX_VALUE} when it sets none. */
  int maxTokens(JsonNode json);

  /** The tools the request offers. */
  default JsonNode tools(JsonNode json) {
    return json.path("tools");
  }

  /**
   * Whether the provider reports cache writes (Anthropic and Bedrock do; the others only reads).
   */
  default boolean reportsCacheWrites() {
    return false;
  }

  /** What the provider's cache holds for this request. */
  SimulatedPromptCache.Hit promptCacheHit(SimulatedPromptCache cache, String model, JsonNode json);

  /**
   * The tool the request forces the model to call (Anthropic {@code tool_choice: {type: tool}},
   * Bedrock {@code toolChoice.tool}), or null: the answer then calls it, as the real model does.
   */
  default String forcedTool(JsonNode json) {
    return null;
  }

  /** The message of a 400 the provider answers to a request it cannot serve, or null. */
  default String rejection(String model, JsonNode json) {
    return null;
  }

  /** A whole (non-streamed) answer. */
  ObjectNode full(Call call);

  /** A streamed answer, frame by frame. */
  List<Frame> frames(Call call);

  /** One frame on the wire: an SSE event unless the provider frames its streams otherwise. */
  default HttpContent encode(Frame frame) {
    return Http.sse(frame.event(), frame.data());
  }

  default String streamContentType() {
    return "text/event-stream";
  }

  /** The provider's error body. */
  ObjectNode error(int status, String message);

  /** The status the provider answers when overloaded. */
  default int overloadedStatus() {
    return 503;
  }

  /** A bearer token, or null. */
  /** The model id of a Bedrock runtime path {@code /model/{id}/<operation>}, URL-decoded. */
  static String bedrockModel(String path) {
    return java.net.URLDecoder.decode(
        path.substring("/model/".length(), path.lastIndexOf('/')),
        java.nio.charset.StandardCharsets.UTF_8);
  }

  static String bearer(FullHttpRequest req) {
    String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
    return auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
  }
}
