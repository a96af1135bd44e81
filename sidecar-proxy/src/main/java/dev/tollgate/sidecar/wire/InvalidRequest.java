package dev.tollgate.sidecar.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A caller's request refused with a 400 before any provider call, naming the field at fault as the
 * provider the caller addressed does: OpenAI's error body carries it as {@code param} with a
 * machine-readable {@code code} ({@code invalid_type}, {@code integer_below_min_value}, ...);
 * Anthropic's message starts with the field's path. The message never holds prompt text.
 */
public final class InvalidRequest extends ProxyException {
  private final String param;
  private final String code;
  private final boolean untranslatable;

  public InvalidRequest(String param, String code, String message) {
    this(param, code, message, false);
  }

  /**
   * @param untranslatable the request is valid for the caller's provider but uses what a
   *     translation cannot carry (a target that speaks the caller's format may still serve it)
   */
  public InvalidRequest(String param, String code, String message, boolean untranslatable) {
    super(ErrorKind.INVALID_REQUEST, message);
    this.param = param;
    this.code = code;
    this.untranslatable = untranslatable;
  }

  /** Whether only translation refuses it: a target speaking the caller's format may serve it. */
  public boolean untranslatable() {
    return untranslatable;
  }

  /** The field at fault, as the caller's format spells its path, or null. */
  public String param() {
    return param;
  }

  /** OpenAI's error code for it ({@code invalid_type}, ...), or null. */
  public String code() {
    return code;
  }

  /**
   * Puts the field and code into an OpenAI-style error body ({@code error.param}); else nothing.
   */
  public void decorate(ObjectNode errorBody) {
    JsonNode e = errorBody.get("error");
    if (e instanceof ObjectNode o && o.has("param")) {
      if (param != null) {
        o.put("param", param);
      }
      if (code != null) {
        o.put("code", code);
      }
    }
  }
}
