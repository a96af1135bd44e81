package dev.tollgate.sidecar.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * What translating OpenAI's embeddings request to a provider's own embeddings API (Gemini, Vertex
 * AI, Bedrock) shares: the request's texts, {@code dimensions} and {@code encoding_format}
 * validated, and the provider's vectors written back as OpenAI's answer. Token-array inputs cannot
 * be translated (another provider's tokenizer), and are refused with a 400 like every request a
 * provider cannot serve, before anything is sent.
 */
public final class EmbeddingTranslation {
  /** The largest {@code dimensions} accepted: above every embedding model's size. */
  public static final int MAX_DIMENSIONS = 65_536;

  private EmbeddingTranslation() {}

  /**
   * The request's texts: {@code input} as a string or an array of strings, at most {@code
   * maxInputs} of them.
   *
   * @param where the provider and model, for the error message
   */
  public static List<String> texts(JsonNode body, String where, int maxInputs) {
    JsonNode input = body.path("input");
    List<String> texts = new ArrayList<>();
    if (input.isTextual()) {
      texts.add(input.asText());
    } else if (input.isArray()) {
      for (JsonNode i : input) {
        if (!i.isTextual()) {
          throw invalid(
              "input must be a string or an array of strings for "
                  + where
                  + ": token arrays cannot be translated to another provider's tokenizer");
        }
        texts.add(i.asText());
      }
    } else {
      throw invalid("input must be a string or an array of strings");
    }
    if (texts.isEmpty()) {
      throw invalid("input must not be empty");
    }
    if (texts.size() > maxInputs) {
      throw invalid(
          where
              + " embeds at most "
              + maxInputs
              + (maxInputs == 1 ? " input" : " inputs")
              + " per request; this one has "
              + texts.size()
              + "; send them in smaller batches");
    }
    return texts;
  }

  /** The requested {@code dimensions}, or null when the request sets none. */
  public static Integer dimensions(JsonNode body) {
    JsonNode d = body.get("dimensions");
    if (d == null || d.isNull()) {
      return null;
    }
    if (!d.isIntegralNumber()
        || !d.canConvertToInt()
        || d.asInt() < 1
        || d.asInt() > MAX_DIMENSIONS) {
      throw invalid("dimensions must be an integer from 1 to " + MAX_DIMENSIONS);
    }
    return d.asInt();
  }

  /** Refuses an {@code encoding_format} other than {@code float} and {@code base64}. */
  public static void checkEncoding(JsonNode body) {
    JsonNode e = body.get("encoding_format");
    if (e != null
        && !e.isNull()
        && !(e.isTextual() && (e.asText().equals("float") || e.asText().equals("base64")))) {
      throw invalid("encoding_format must be \"float\" or \"base64\"");
    }
  }

  /**
   * Validates what every translation checks: the encoding, and the dimensions, which {@code where}
   * may not support (null {@code allowed}) or support only in some sizes.
   *
   * @return the requested dimensions, or null
   */
  public static Integer checkDimensions(JsonNode body, String where, List<Integer> allowed) {
    checkEncoding(body);
    Integer d = dimensions(body);
    if (d == null) {
      return null;
    }
    if (allowed == null) {
      throw invalid(where + " does not take dimensions; leave it out or route to another model");
    }
    if (!allowed.isEmpty() && !allowed.contains(d)) {
      throw invalid(where + " takes dimensions " + allowed + " only, not " + d);
    }
    return d;
  }

  /**
   * The provider's vectors as OpenAI's answer (floats; the caller's encoding is applied when it is
   * rendered), kept as the neutral answer's text.
   *
   * @param promptTokens the input tokens the provider reported, or null when it reported none (the
   *     call is then counted but not priced)
   */
  public static ChatResponse answer(String model, List<JsonNode> vectors, Long promptTokens) {
    if (vectors.isEmpty()) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider's answer holds no embeddings");
    }
    ObjectNode r = Json.object().put("object", "list");
    ArrayNode data = r.putArray("data");
    for (int i = 0; i < vectors.size(); i++) {
      JsonNode v = vectors.get(i);
      if (!v.isArray() || v.isEmpty()) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider's embedding " + i + " is not a vector");
      }
      for (JsonNode x : v) {
        if (!x.isNumber()) {
          throw new ProxyException(
              ErrorKind.UPSTREAM_BAD_RESPONSE,
              "the provider's embedding " + i + " holds a value that is not a number");
        }
      }
      data.addObject().put("object", "embedding").put("index", i).set("embedding", v);
    }
    r.put("model", model);
    Usage usage = null;
    if (promptTokens != null) {
      long n = Math.max(0, promptTokens);
      r.putObject("usage").put("prompt_tokens", n).put("total_tokens", n);
      usage = new Usage(n, 0, 0, 0);
    }
    return new ChatResponse(
        "", model, List.of(new ChatRequest.Text(Json.write(r))), FinishReason.STOP, usage);
  }

  /** The provider's count at {@code field} of {@code node}, or null when absent or not a count. */
  public static Long count(JsonNode node, String field) {
    JsonNode n = node.path(field);
    return n.isIntegralNumber() && n.canConvertToLong() && n.asLong() >= 0 ? n.asLong() : null;
  }

  /**
   * Rewrites every float-array {@code embedding} of an OpenAI answer as base64 of little-endian
   * float32, as OpenAI encodes it for {@code encoding_format: base64}; other values are left.
   */
  public static void toBase64(ObjectNode answer) {
    for (JsonNode e : answer.path("data")) {
      JsonNode v = e.path("embedding");
      if (e instanceof ObjectNode o && v.isArray()) {
        ByteBuffer b = ByteBuffer.allocate(v.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (JsonNode x : v) {
          b.putFloat(x.floatValue());
        }
        o.put("embedding", Base64.getEncoder().encodeToString(b.array()));
      }
    }
  }

  private static ProxyException invalid(String message) {
    return new ProxyException(ErrorKind.INVALID_REQUEST, message);
  }
}
