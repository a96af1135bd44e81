package dev.tollgate.sidecar.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.EmbeddingTranslation;
import dev.tollgate.sidecar.provider.EndpointAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.Json;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI embeddings translated to the Gemini API's {@code models/{model}:batchEmbedContents}: one
 * request per input text (at most {@link #MAX_INPUTS}), {@code dimensions} as {@code
 * outputDimensionality}; the answer's {@code embeddings[].values} become OpenAI's {@code data}. The
 * Gemini API's answer carries no token count unless it has {@code usageMetadata.promptTokenCount}:
 * without one the call is priced from the input texts' characters / 4 (the relay's estimate for an
 * embedding answer without a count), marked as incomplete usage.
 */
final class GeminiEmbeddingsAdapter extends EndpointAdapter {
  static final int MAX_INPUTS = 100;

  GeminiEmbeddingsAdapter(ProviderAdapter chat) {
    super(ApiFormat.OPENAI_EMBEDDINGS, chat);
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    return URI.create(
        ProviderAdapter.trimSlash(c.effectiveEndpoint().orElseThrow())
            + "/v1beta/models/"
            + model
            + ":batchEmbedContents");
  }

  @Override
  public ObjectNode forward(ObjectNode callerBody, String model, boolean stream) {
    String where = "gemini model " + model;
    Integer dims = EmbeddingTranslation.checkDimensions(callerBody, where, List.of());
    List<String> texts = EmbeddingTranslation.texts(callerBody, where, MAX_INPUTS);
    ObjectNode body = Json.object();
    ArrayNode requests = body.putArray("requests");
    for (String t : texts) {
      ObjectNode r = requests.addObject().put("model", "models/" + model);
      r.putObject("content").putArray("parts").addObject().put("text", t);
      if (dims != null) {
        r.put("outputDimensionality", dims);
      }
    }
    return body;
  }

  @Override
  public boolean rewritesAnswer() {
    return true;
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    List<JsonNode> vectors = new ArrayList<>();
    for (JsonNode e : body.path("embeddings")) {
      vectors.add(e.path("values"));
    }
    return EmbeddingTranslation.answer(
        model, vectors, EmbeddingTranslation.count(body.path("usageMetadata"), "promptTokenCount"));
  }
}
