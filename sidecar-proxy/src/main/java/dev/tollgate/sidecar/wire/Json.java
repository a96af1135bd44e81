package dev.tollgate.sidecar.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/** The one JSON mapper of the data path, and small helpers around it. */
public final class Json {
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /** Parses {@code bytes}; null when they are not JSON. */
  public static JsonNode parseOrNull(byte[] bytes) {
    try {
      return MAPPER.readTree(bytes);
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Parses the readable bytes of {@code buf} in place (its reader index unmoved); null when not
   * JSON.
   */
  public static JsonNode parseOrNull(io.netty.buffer.ByteBuf buf) {
    try (java.io.InputStream in = new io.netty.buffer.ByteBufInputStream(buf.duplicate())) {
      return MAPPER.readTree(in);
    } catch (IOException e) {
      return null;
    }
  }

  public static JsonNode parseOrNull(String text) {
    try {
      return text == null ? null : MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  public static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Text of a string field, or null when absent, null or not a string. */
  public static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v != null && v.isTextual() ? v.asText() : null;
  }

  /**
   * Whether any of {@code fields} is present but not an integer (e.g. {@code "prompt_tokens":
   * "ten"}): usage that cannot be read is unknown, not zero.
   */
  public static boolean anyUnreadableCount(JsonNode node, String... fields) {
    for (String f : fields) {
      JsonNode v = node == null ? null : node.get(f);
      if (v != null && !v.isNull() && !(v.isIntegralNumber() && v.canConvertToLong())) {
        return true;
      }
    }
    return false;
  }

  /** A non-negative long field, or -1 when absent. */
  public static long count(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    return v != null && v.canConvertToLong() ? v.asLong() : -1;
  }

  /**
   * A sampling parameter ({@code temperature}, {@code top_p}) of a caller's request: null when
   * absent or null, else a finite number. {@code 1e999999999} reads as infinity, which no provider
   * accepts and which would fail later as an internal error: it is the caller's mistake, so it gets
   * a 400 in the caller's format.
   */
  public static Double samplingParameter(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
      String shown = v.toString();
      throw new ProxyException(
          ErrorKind.INVALID_REQUEST,
          field
              + " must be a finite number, got "
              + (shown.length() > 40 ? shown.substring(0, 40) + "…" : shown));
    }
    return v.asDouble();
  }
}
