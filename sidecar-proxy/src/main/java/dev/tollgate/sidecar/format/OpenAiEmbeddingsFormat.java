package dev.tollgate.sidecar.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.provider.EmbeddingTranslation;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.StreamEncoder;

/**
 * OpenAI's Embeddings ({@code POST /v1/embeddings}): routed by the route alias in {@code model}
 * like chat, forwarded as sent to providers that speak OpenAI's API (OpenAI, Azure OpenAI, the
 * OpenAI-compatible ones); translated to Gemini's {@code batchEmbedContents}, Vertex AI's {@code
 * predict} and Bedrock's InvokeModel (Titan, Cohere) by their adapters, whose answers come back as
 * OpenAI's with the caller's {@code encoding_format}; other providers refuse it with a 400. Metered
 * as input tokens only. A cached answer is the JSON the caller got, replayed as it came.
 */
final class OpenAiEmbeddingsFormat extends EndpointFormat {
  OpenAiEmbeddingsFormat() {
    super(
        ApiFormat.OPENAI_EMBEDDINGS,
        "POST /v1/embeddings",
        "the sidecar serves embeddings from OpenAI-format providers (openai, azure-openai,"
            + " mistral, ollama, openai-compatible...), gemini, vertex-ai and bedrock (Titan,"
            + " Cohere); give the route's tiers embedding models of such a credential",
        "embeddings");
  }

  /** The provider's JSON, kept whole as the answer's text (a response-cache hit). */
  @Override
  public ObjectNode renderResponse(ChatResponse response) {
    return cachedJson(response, "embeddings answer");
  }

  /** A translated answer (float vectors) in the caller's {@code encoding_format}. */
  @Override
  public ObjectNode renderResponse(ChatResponse response, JsonNode request) {
    ObjectNode answer = renderResponse(response);
    if (request != null && "base64".equals(request.path("encoding_format").asText())) {
      EmbeddingTranslation.toBase64(answer);
    }
    return answer;
  }

  @Override
  public StreamEncoder streamEncoder(boolean includeUsage) {
    return new OpenAiWire.Encoder(false); // embeddings never stream; errors only
  }

  @Override
  public ObjectNode errorBody(ErrorKind kind, String message) {
    return OpenAiWire.errorBody(kind, message);
  }

  @Override
  public String finishReason(FinishReason finish) {
    return null; // an embedding has no finish reason
  }

  @Override
  public PromptCacheMarker.CallerMarks cacheMarks(JsonNode body) {
    return PromptCacheMarker.CallerMarks.ofOpenAi(MissingNode.getInstance());
  }

  @Override
  public boolean samples() {
    return false;
  }

  @Override
  public String label() {
    return "embeddings";
  }
}
