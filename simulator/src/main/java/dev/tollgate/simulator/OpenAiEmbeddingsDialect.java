package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;

/**
 * OpenAI Embeddings, at any path ending in {@code /embeddings} (Azure's deployment paths and the
 * OpenAI-compatible providers included): one vector per input, as floats or as base64 of
 * little-endian float32 ({@code encoding_format}), {@code dimensions} long (8 by default), and the
 * usage in {@code prompt_tokens}. Never streams.
 */
final class OpenAiEmbeddingsDialect implements Dialect {
  static final int DEFAULT_DIMENSIONS = 8;

  @Override
  public boolean speaks(String path) {
    return path.endsWith("/embeddings");
  }

  @Override
  public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
    return new OpenAiDialect().apiKey(req, qs);
  }

  @Override
  public boolean streams(String path, JsonNode json) {
    return false;
  }

  @Override
  public int maxTokens(JsonNode json) {
    return 0; // no output
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
  public String rejection(String model, JsonNode json) {
    JsonNode input = json.path("input");
    if (input.isMissingNode() || input.isNull() || (input.isArray() && input.isEmpty())) {
      return "'input' is a required property";
    }
    return null;
  }

  @Override
  public ObjectNode full(Call c) {
    JsonNode req = c.request();
    JsonNode input = req.path("input");
    // an array of strings is one input each; a string or one token array is one input
    int inputs = input.isArray() && input.size() > 0 && !input.get(0).isNumber() ? input.size() : 1;
    int dims = req.path("dimensions").asInt(DEFAULT_DIMENSIONS);
    boolean base64 = "base64".equals(req.path("encoding_format").asText());
    ObjectNode r = JSON.createObjectNode().put("object", "list");
    ArrayNode data = r.putArray("data");
    for (int i = 0; i < inputs; i++) {
      ObjectNode e = data.addObject().put("object", "embedding").put("index", i);
      float[] v = vector(i, dims);
      if (base64) {
        ByteBuffer b = ByteBuffer.allocate(dims * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
          b.putFloat(f);
        }
        e.put("embedding", Base64.getEncoder().encodeToString(b.array()));
      } else {
        ArrayNode a = e.putArray("embedding");
        for (float f : v) {
          a.add(f);
        }
      }
    }
    r.put("model", c.model());
    if (!c.b().omitUsage()) {
      r.putObject("usage").put("prompt_tokens", c.input()).put("total_tokens", c.input());
    }
    return r;
  }

  /** A deterministic vector: input {@code i}, component {@code k} is {@code (i + 1) / (k + 2)}. */
  static float[] vector(int i, int dims) {
    float[] v = new float[dims];
    for (int k = 0; k < dims; k++) {
      v[k] = (i + 1) / (float) (k + 2);
    }
    return v;
  }

  @Override
  public List<Frame> frames(Call c) {
    throw new IllegalStateException("embeddings never stream");
  }

  @Override
  public ObjectNode error(int status, String message) {
    return new OpenAiDialect().error(status, message);
  }
}
