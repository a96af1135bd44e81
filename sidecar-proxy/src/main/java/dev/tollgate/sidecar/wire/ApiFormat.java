package dev.tollgate.sidecar.wire;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** The two APIs applications call the sidecar with. */
public enum ApiFormat {
  OPENAI,
  ANTHROPIC;

  /** The error body of this format. */
  public ObjectNode errorBody(ErrorKind kind, String message) {
    ObjectNode root = Json.object();
    if (this == ANTHROPIC) {
      root.put("type", "error");
      root.putObject("error").put("type", kind.anthropicType()).put("message", message);
    } else {
      ObjectNode e = root.putObject("error");
      e.put("message", message).put("type", kind.openAiType());
      e.putNull("param");
      e.put("code", kind.label());
    }
    return root;
  }

  /** The format a path belongs to, for errors before a request is understood. */
  public static ApiFormat forPath(String path) {
    return path.startsWith("/v1/messages") ? ANTHROPIC : OPENAI;
  }
}
