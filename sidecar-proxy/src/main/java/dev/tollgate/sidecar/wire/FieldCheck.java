package dev.tollgate.sidecar.wire;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * Checks of a caller's request fields for translated calls, worded as the API the caller addressed
 * words them, so that a request the provider would refuse with a 400 is refused the same way before
 * any call (a translated request otherwise reaches a provider that may accept what the caller's
 * provider rejects, or fail differently). The two styles follow the providers' own error messages:
 * OpenAI's {@code Invalid type for 'max_tokens': expected an integer, but got a string instead.}
 * with {@code param} and {@code code}, and Anthropic's {@code max_tokens: Input should be a valid
 * integer}. Values are never echoed beyond a short number, so no prompt text reaches the error.
 */
public final class FieldCheck {
  /** Whose wording. */
  public enum Style {
    OPENAI,
    ANTHROPIC
  }

  private final Style style;

  private FieldCheck(Style style) {
    this.style = style;
  }

  public static final FieldCheck OPENAI = new FieldCheck(Style.OPENAI);
  public static final FieldCheck ANTHROPIC = new FieldCheck(Style.ANTHROPIC);

  /**
   * The path of {@code segments} as the style spells it: {@code messages[2].content} or {@code
   * messages.2.content}.
   */
  public String path(Object... segments) {
    StringBuilder sb = new StringBuilder();
    for (Object s : segments) {
      if (s instanceof Integer i) {
        sb.append(style == Style.OPENAI ? "[" + i + "]" : "." + i);
      } else {
        if (!sb.isEmpty()) {
          sb.append('.');
        }
        sb.append(s);
      }
    }
    return sb.toString();
  }

  /** A required field is absent or null. */
  public InvalidRequest missing(String path) {
    return style == Style.OPENAI
        ? new InvalidRequest(
            path, "missing_required_parameter", "Missing required parameter: '" + path + "'.")
        : new InvalidRequest(path, null, path + ": Field required");
  }

  /**
   * A field of the wrong JSON type; {@code expected} is "an integer", "a string", "an array", ...
   */
  public InvalidRequest type(String path, String expected, JsonNode got) {
    return style == Style.OPENAI
        ? new InvalidRequest(
            path,
            "invalid_type",
            "Invalid type for '"
                + path
                + "': expected "
                + expected
                + ", but got "
                + kind(got)
                + " instead.")
        : new InvalidRequest(path, null, path + ": Input should be " + validWord(expected));
  }

  /** A value that is not one of the allowed ones, or does not fit the request ({@code detail}). */
  public InvalidRequest value(String path, String detail) {
    return style == Style.OPENAI
        ? new InvalidRequest(path, "invalid_value", "Invalid value for '" + path + "': " + detail)
        : new InvalidRequest(path, null, path + ": " + detail);
  }

  /** A number below its minimum. */
  public InvalidRequest belowMin(String path, Number min, JsonNode got) {
    boolean integer = got.isIntegralNumber();
    return style == Style.OPENAI
        ? new InvalidRequest(
            path,
            integer ? "integer_below_min_value" : "decimal_below_min_value",
            "Invalid '"
                + path
                + "': "
                + (integer ? "integer" : "decimal")
                + " below minimum value. Expected a value >= "
                + min
                + ", but got "
                + shortNumber(got)
                + " instead.")
        : new InvalidRequest(
            path, null, path + ": Input should be greater than or equal to " + min);
  }

  /** A number above its maximum. */
  public InvalidRequest aboveMax(String path, Number max, JsonNode got) {
    boolean integer = got.isIntegralNumber();
    return style == Style.OPENAI
        ? new InvalidRequest(
            path,
            integer ? "integer_above_max_value" : "decimal_above_max_value",
            "Invalid '"
                + path
                + "': "
                + (integer ? "integer" : "decimal")
                + " above maximum value. Expected a value <= "
                + max
                + ", but got "
                + shortNumber(got)
                + " instead.")
        : new InvalidRequest(path, null, path + ": Input should be less than or equal to " + max);
  }

  /** An array with too few or too many items. */
  public InvalidRequest length(String path, String detail) {
    return style == Style.OPENAI
        ? new InvalidRequest(path, "invalid_value", "Invalid '" + path + "': " + detail)
        : new InvalidRequest(path, null, path + ": " + detail);
  }

  /** A feature the request uses that the translation cannot carry, naming the field. */
  public InvalidRequest unsupported(String path, String detail) {
    return style == Style.OPENAI
        ? new InvalidRequest(path, null, detail, true)
        : new InvalidRequest(path, null, path + ": " + detail, true);
  }

  // ---- typed readers: null when absent or JSON null, else the value or a refusal ----

  /** An optional integer within [{@code min}, {@code max}]. */
  public Integer optionalInt(JsonNode parent, String field, String path, int min, int max) {
    Long v = optionalLong(parent, field, path, min, max);
    return v == null ? null : (int) (long) v;
  }

  /** An optional 64-bit integer within [{@code min}, {@code max}]. */
  public Long optionalLong(JsonNode parent, String field, String path, long min, long max) {
    JsonNode v = parent.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw type(path, "an integer", v);
    }
    if (!v.isIntegralNumber()) {
      if (v.isFloatingPointNumber() && v.asDouble() == Math.rint(v.asDouble())) {
        // 100.0: OpenAI and Anthropic both accept a whole number written as a decimal
      } else {
        throw type(path, "an integer", v);
      }
    }
    if (!v.canConvertToLong() || v.asLong() < min) {
      if (v.asDouble() > 0) {
        throw aboveMax(path, max, v);
      }
      throw belowMin(path, min, v);
    }
    if (v.asLong() > max) {
      throw aboveMax(path, max, v);
    }
    return v.asLong();
  }

  /** An optional finite number within [{@code min}, {@code max}]. */
  public Double optionalNumber(JsonNode parent, String field, String path, double min, double max) {
    JsonNode v = parent.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
      throw type(path, "a number", v);
    }
    if (v.asDouble() < min) {
      throw belowMin(path, trim(min), v);
    }
    if (v.asDouble() > max) {
      throw aboveMax(path, trim(max), v);
    }
    return v.asDouble();
  }

  /** An optional boolean. */
  public boolean optionalBoolean(JsonNode parent, String field, String path) {
    JsonNode v = parent.get(field);
    if (v == null || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw type(path, "a boolean", v);
    }
    return v.asBoolean();
  }

  /** An optional string. */
  public String optionalString(JsonNode parent, String field, String path) {
    JsonNode v = parent.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw type(path, "a string", v);
    }
    return v.asText();
  }

  /** A required string. */
  public String requiredString(JsonNode parent, String field, String path) {
    String s = optionalString(parent, field, path);
    if (s == null) {
      throw missing(path);
    }
    return s;
  }

  /** A required object (a message, a content part). */
  public JsonNode requireObject(JsonNode v, String path) {
    if (v == null || v.isNull()) {
      throw missing(path);
    }
    if (!v.isObject()) {
      throw type(path, "an object", v);
    }
    return v;
  }

  /** An optional array, or an empty one. */
  public JsonNode optionalArray(JsonNode parent, String field, String path) {
    JsonNode v = parent.get(field);
    if (v == null || v.isNull()) {
      return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
    if (!v.isArray()) {
      throw type(path, "an array", v);
    }
    return v;
  }

  /** A value that must be one of {@code allowed}. */
  public String oneOf(String value, String path, List<String> allowed) {
    if (!allowed.contains(value)) {
      throw style == Style.OPENAI
          ? new InvalidRequest(
              path,
              "invalid_value",
              "Invalid value: '"
                  + clip(value)
                  + "'. Supported values are: "
                  + String.join(", ", allowed.stream().map(a -> "'" + a + "'").toList())
                  + ".")
          : new InvalidRequest(
              path,
              null,
              path
                  + ": Input should be "
                  + String.join(" or ", allowed.stream().map(a -> "'" + a + "'").toList()));
    }
    return value;
  }

  private static String kind(JsonNode v) {
    if (v == null || v.isNull()) {
      return "null";
    }
    if (v.isTextual()) {
      return "a string";
    }
    if (v.isIntegralNumber()) {
      return "an integer";
    }
    if (v.isNumber()) {
      return "a decimal";
    }
    if (v.isBoolean()) {
      return "a boolean";
    }
    if (v.isArray()) {
      return "an array";
    }
    return "an object";
  }

  private static String validWord(String expected) {
    return switch (expected) {
      case "an integer" -> "a valid integer";
      case "a number" -> "a valid number";
      case "a string" -> "a valid string";
      case "a boolean" -> "a valid boolean";
      case "an array" -> "a valid list";
      case "an object" -> "a valid dictionary";
      default -> expected;
    };
  }

  private static String shortNumber(JsonNode v) {
    return clip(v.asText());
  }

  private static Number trim(double d) {
    return d == Math.rint(d) ? (Number) Long.valueOf((long) d) : (Number) Double.valueOf(d);
  }

  private static String clip(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }
}
