package dev.tollgate.sidecar.provider.vertex;

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
import dev.tollgate.sidecar.wire.Json;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI embeddings translated to Vertex AI's {@code predict} for Google's text-embedding models
 * ({@code text-embedding-005}, {@code text-multilingual-embedding-002}, {@code
 * gemini-embedding-001}...): one instance {@code {"content": text}} per input, {@code dimensions}
 * as {@code parameters.outputDimensionality}. The answer's {@code predictions[].embeddings.values}
 * become OpenAI's {@code data}, the sum of their {@code statistics.token_count} its {@code
 * prompt_tokens}. {@code gemini-embedding-001} takes one input per request, the others up to {@link
 * #MAX_INPUTS}. Claude models have no embeddings: a 400.
 */
final class VertexEmbeddingsAdapter extends EndpointAdapter {
  static final int MAX_INPUTS = 250;

  private static final UnservedEndpoint CLAUDE =
      new UnservedEndpoint(
          "POST /v1/embeddings",
          "Claude models have no embeddings; route this model to a Google embedding model"
              + " (text-embedding-005, gemini-embedding-001...)");

  VertexEmbeddingsAdapter(ProviderAdapter chat) {
    super(ApiFormat.OPENAI_EMBEDDINGS, chat);
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    if (VertexAdapter.isClaude(model)) {
      return CLAUDE.url(c, model, stream); // throws the 400
    }
    return URI.create(VertexAdapter.publisher(c, "google") + "/models/" + model + ":predict");
  }

  @Override
  public ObjectNode forward(ObjectNode callerBody, String model, boolean stream) {
    String where = "vertex-ai model " + model;
    Integer dims = EmbeddingTranslation.checkDimensions(callerBody, where, List.of());
    int max = model.startsWith("gemini-embedding") ? 1 : MAX_INPUTS;
    List<String> texts = EmbeddingTranslation.texts(callerBody, where, max);
    ObjectNode body = Json.object();
    ArrayNode instances = body.putArray("instances");
    for (String t : texts) {
      instances.addObject().put("content", t);
    }
    if (dims != null) {
      body.putObject("parameters").put("outputDimensionality", dims);
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
    Long tokens = 0L;
    for (JsonNode p : body.path("predictions")) {
      JsonNode e = p.path("embeddings");
      vectors.add(e.path("values"));
      Long n = EmbeddingTranslation.count(e.path("statistics"), "token_count");
      tokens = tokens == null || n == null ? null : tokens + n;
    }
    return EmbeddingTranslation.answer(model, vectors, tokens);
  }
}
