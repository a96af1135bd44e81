package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;

/**
 * The embeddings APIs of the providers that do not speak OpenAI's: Gemini's {@code
 * :batchEmbedContents}, Vertex AI's {@code :predict} and Bedrock's InvokeModel for Titan and Cohere
 * embed models. Vectors are {@link OpenAiEmbeddingsDialect#vector}s, of the requested
 * dimensionality (8 by default); the input count is the behaviour's (bytes / 4 by default).
 */
final class EmbeddingsDialects {
  private EmbeddingsDialects() {}

  private static ArrayNode vector(int i, int dims) {
    ArrayNode a = JSON.createArrayNode();
    for (float f : OpenAiEmbeddingsDialect.vector(i, dims)) {
      a.add(f);
    }
    return a;
  }

  /** What the embedding dialects share: no streaming, no output, no tools, no prompt cache. */
  abstract static class Base implements Dialect {
    @Override
    public boolean streams(String path, JsonNode json) {
      return false;
    }

    @Override
    public int maxTokens(JsonNode json) {
      return 0;
    }

    @Override
    public JsonNode tools(JsonNode json) {
      return JSON.createArrayNode();
    }

    @Override
    public SimulatedPromptCache.Hit promptCacheHit(
        SimulatedPromptCache cache, String model, JsonNode json) {
      return null;
    }

    @Override
    public List<Frame> frames(Call c) {
      throw new IllegalStateException("embeddings never stream");
    }
  }

  /**
   * Gemini API {@code models/{m}:batchEmbedContents}: {@code requests[]} of {@code content.parts}
   * text, optional {@code outputDimensionality}; answers {@code embeddings[].values} and no usage.
   */
  static final class Gemini extends Base {
    private final GeminiDialect gemini = new GeminiDialect();

    @Override
    public boolean speaks(String path) {
      return path.endsWith(":batchEmbedContents");
    }

    @Override
    public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
      return gemini.apiKey(req, qs);
    }

    @Override
    public String model(String path, JsonNode json) {
      return path.substring(path.lastIndexOf('/') + 1, path.lastIndexOf(':'));
    }

    @Override
    public String rejection(String model, JsonNode json) {
      JsonNode requests = json.path("requests");
      if (!requests.isArray() || requests.isEmpty()) {
        return "requests is required";
      }
      for (JsonNode r : requests) {
        if (!("models/" + model).equals(r.path("model").asText())) {
          return "model of each request must be models/" + model;
        }
        if (!r.at("/content/parts/0/text").isTextual()) {
          return "content.parts[].text is required";
        }
      }
      return requests.size() > 100 ? "at most 100 requests can be in one batch" : null;
    }

    @Override
    public ObjectNode full(Call c) {
      ObjectNode r = JSON.createObjectNode();
      ArrayNode out = r.putArray("embeddings");
      int i = 0;
      for (JsonNode req : c.request().path("requests")) {
        int dims =
            req.path("outputDimensionality").asInt(OpenAiEmbeddingsDialect.DEFAULT_DIMENSIONS);
        out.addObject().set("values", vector(i++, dims));
      }
      return r;
    }

    @Override
    public ObjectNode error(int status, String message) {
      return gemini.error(status, message);
    }
  }

  /**
   * Vertex AI {@code publishers/google/models/{m}:predict} for text embeddings: {@code
   * instances[].content}, optional {@code parameters.outputDimensionality}; answers {@code
   * predictions[].embeddings} with {@code values} and {@code statistics.token_count} (the
   * behaviour's input count, each).
   */
  static final class VertexPredict extends Base {
    private final GeminiDialect gemini = new GeminiDialect();

    @Override
    public boolean speaks(String path) {
      return path.contains("/publishers/google/models/") && path.endsWith(":predict");
    }

    @Override
    public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
      return Dialect.bearer(req);
    }

    @Override
    public String model(String path, JsonNode json) {
      return path.substring(path.lastIndexOf('/') + 1, path.lastIndexOf(':'));
    }

    @Override
    public String rejection(String model, JsonNode json) {
      JsonNode instances = json.path("instances");
      if (!instances.isArray() || instances.isEmpty()) {
        return "instances is required";
      }
      for (JsonNode i : instances) {
        if (!i.path("content").isTextual()) {
          return "instances[].content is required";
        }
      }
      if (model.startsWith("gemini-embedding") && instances.size() > 1) {
        return "gemini-embedding-001 takes one instance per request";
      }
      return null;
    }

    @Override
    public ObjectNode full(Call c) {
      int dims =
          c.request()
              .path("parameters")
              .path("outputDimensionality")
              .asInt(OpenAiEmbeddingsDialect.DEFAULT_DIMENSIONS);
      ObjectNode r = JSON.createObjectNode();
      ArrayNode out = r.putArray("predictions");
      for (int i = 0; i < c.request().path("instances").size(); i++) {
        ObjectNode e = out.addObject().putObject("embeddings");
        e.set("values", vector(i, dims));
        e.putObject("statistics").put("token_count", c.input()).put("truncated", false);
      }
      return r;
    }

    @Override
    public ObjectNode error(int status, String message) {
      return gemini.error(status, message);
    }
  }

  /**
   * Bedrock InvokeModel at {@code /model/{id}/invoke} for Titan Text Embeddings ({@code inputText},
   * {@code dimensions} 256/512/1024 on v2 only; answers {@code embedding} and {@code
   * inputTextTokenCount}) and Cohere Embed ({@code texts}, {@code input_type} required; answers
   * {@code embeddings} and the count in the {@code X-Amzn-Bedrock-Input-Token-Count} header).
   */
  static final class BedrockInvoke extends Base {
    private final BedrockDialect converse = new BedrockDialect();

    @Override
    public boolean signsWithAws() {
      return true;
    }

    @Override
    public boolean speaks(String path) {
      return path.startsWith("/model/") && path.endsWith("/invoke");
    }

    @Override
    public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
      return Dialect.bearer(req);
    }

    @Override
    public String model(String path, JsonNode json) {
      return Dialect.bedrockModel(path);
    }

    @Override
    public String rejection(String model, JsonNode json) {
      if (model.contains("titan-embed-text")) {
        if (!json.path("inputText").isTextual()) {
          return "inputText is required";
        }
        JsonNode d = json.get("dimensions");
        if (d != null && (model.contains("-v1") || !List.of(256, 512, 1024).contains(d.asInt()))) {
          return "Malformed input request: dimensions";
        }
        return json.has("texts") ? "extraneous key [texts] is not permitted" : null;
      }
      if (model.contains("cohere.embed")) {
        if (!json.path("texts").isArray() || json.path("texts").isEmpty()) {
          return "texts is required";
        }
        if (!json.path("input_type").isTextual()) {
          return "input_type is required";
        }
        return json.path("texts").size() > 96 ? "texts: at most 96" : null;
      }
      return "this simulator serves InvokeModel for Titan and Cohere embedding models only";
    }

    @Override
    public ObjectNode full(Call c) {
      ObjectNode r = JSON.createObjectNode();
      if (c.model().contains("titan-embed-text")) {
        int dims = c.request().path("dimensions").asInt(OpenAiEmbeddingsDialect.DEFAULT_DIMENSIONS);
        r.set("embedding", vector(0, dims));
        r.put("inputTextTokenCount", c.input());
        return r;
      }
      ArrayNode out = r.putArray("embeddings");
      for (int i = 0; i < c.request().path("texts").size(); i++) {
        out.add(vector(i, OpenAiEmbeddingsDialect.DEFAULT_DIMENSIONS));
      }
      r.put("id", "emb-sim").put("response_type", "embeddings_floats");
      r.set("texts", c.request().path("texts"));
      return r;
    }

    @Override
    public void headers(Call c, HttpHeaders h) {
      h.set("X-Amzn-Bedrock-Input-Token-Count", c.input());
    }

    @Override
    public ObjectNode error(int status, String message) {
      return converse.error(status, message);
    }
  }

  /**
   * Gemini's {@code models/{m}:countTokens} (the Gemini API's and Vertex AI's): {@code contents},
   * or a {@code generateContentRequest} naming the same model; answers {@code {"totalTokens": n}}
   * (the behaviour's input count). Free.
   */
  static final class GeminiCountTokens extends Base {
    private final GeminiDialect gemini = new GeminiDialect();

    @Override
    public boolean bills() {
      return false;
    }

    @Override
    public boolean speaks(String path) {
      return path.endsWith(":countTokens");
    }

    @Override
    public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
      return gemini.apiKey(req, qs);
    }

    @Override
    public String model(String path, JsonNode json) {
      return path.substring(path.lastIndexOf('/') + 1, path.lastIndexOf(':'));
    }

    @Override
    public String rejection(String model, JsonNode json) {
      JsonNode g = json.path("generateContentRequest");
      if (g.isObject()) {
        if (!("models/" + model).equals(g.path("model").asText())) {
          return "generateContentRequest.model must be models/" + model;
        }
        return g.path("contents").isArray() && !g.path("contents").isEmpty()
            ? null
            : "generateContentRequest.contents is required";
      }
      return json.path("contents").isArray() && !json.path("contents").isEmpty()
          ? null
          : "contents is required";
    }

    @Override
    public ObjectNode full(Call c) {
      return JSON.createObjectNode().put("totalTokens", c.input());
    }

    @Override
    public ObjectNode error(int status, String message) {
      return gemini.error(status, message);
    }
  }
}
