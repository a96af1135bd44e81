package dev.tollgate.sidecar.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.EmbeddingTranslation;
import dev.tollgate.sidecar.provider.EndpointAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.UnservedEndpoint;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI embeddings translated to Bedrock's InvokeModel ({@code POST /model/{id}/invoke}) for the
 * embedding models Bedrock serves that way:
 *
 * <ul>
 *   <li>Amazon Titan Text Embeddings ({@code amazon.titan-embed-text-v1}, {@code -v2:0}): one input
 *       per request ({@code inputText}); {@code dimensions} 256, 512 or 1024 on v2, none on v1; the
 *       answer's {@code embedding} and {@code inputTextTokenCount}.
 *   <li>Cohere Embed v3 ({@code cohere.embed-english-v3}, {@code cohere.embed-multilingual-v3}): up
 *       to 96 {@code texts} with {@code input_type} {@code search_document} (OpenAI's API has no
 *       such field), no {@code dimensions}; the answer's {@code embeddings}, and the input tokens
 *       from Bedrock's {@code X-Amzn-Bedrock-Input-Token-Count} header (the body has none).
 * </ul>
 *
 * Other models are refused with a 400 before anything is sent.
 */
final class BedrockEmbeddingsAdapter extends EndpointAdapter {
  static final int COHERE_MAX_INPUTS = 96;
  static final String INPUT_TOKENS_HEADER = "X-Amzn-Bedrock-Input-Token-Count";

  private static final UnservedEndpoint OTHER =
      new UnservedEndpoint(
          "POST /v1/embeddings",
          "Bedrock embeddings are served for Amazon Titan Text Embeddings"
              + " (amazon.titan-embed-text-...) and Cohere Embed (cohere.embed-...) models only");

  BedrockEmbeddingsAdapter(ProviderAdapter chat) {
    super(ApiFormat.OPENAI_EMBEDDINGS, chat);
  }

  private static boolean titan(String model) {
    return model.contains("amazon.titan-embed-text");
  }

  private static boolean cohere(String model) {
    return model.contains("cohere.embed");
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    if (!titan(model) && !cohere(model)) {
      return OTHER.url(c, model, stream); // throws the 400
    }
    return URI.create(
        BedrockAdapter.base(c)
            + "/model/"
            + URLEncoder.encode(model, StandardCharsets.UTF_8)
            + "/invoke");
  }

  @Override
  public ObjectNode forward(ObjectNode callerBody, String model, boolean stream) {
    String where = "bedrock model " + model;
    ObjectNode body = Json.object();
    if (titan(model)) {
      boolean v1 = model.contains("titan-embed-text-v1");
      Integer dims =
          EmbeddingTranslation.checkDimensions(
              callerBody, where, v1 ? null : List.of(256, 512, 1024));
      body.put("inputText", EmbeddingTranslation.texts(callerBody, where, 1).get(0));
      if (dims != null) {
        body.put("dimensions", dims);
      }
      return body;
    }
    EmbeddingTranslation.checkDimensions(callerBody, where, null);
    ArrayNode texts = body.putArray("texts");
    EmbeddingTranslation.texts(callerBody, where, COHERE_MAX_INPUTS).forEach(texts::add);
    body.put("input_type", "search_document");
    return body;
  }

  @Override
  public boolean rewritesAnswer() {
    return true;
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    return decode(body, model, null);
  }

  @Override
  public ChatResponse decode(JsonNode body, String model, HttpHeaders headers) {
    if (titan(model)) {
      return EmbeddingTranslation.answer(
          model,
          List.of(body.path("embedding")),
          EmbeddingTranslation.count(body, "inputTextTokenCount"));
    }
    JsonNode e = body.path("embeddings");
    if (e.isObject()) {
      e = e.path("float"); // the shape answered when embedding_types is set
    }
    List<JsonNode> vectors = new ArrayList<>();
    e.forEach(vectors::add);
    return EmbeddingTranslation.answer(model, vectors, headerCount(headers));
  }

  private static Long headerCount(HttpHeaders headers) {
    String v = headers == null ? null : headers.get(INPUT_TOKENS_HEADER);
    if (v == null) {
      return null;
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException ex) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE, INPUT_TOKENS_HEADER + " is not a token count");
    }
  }
}
