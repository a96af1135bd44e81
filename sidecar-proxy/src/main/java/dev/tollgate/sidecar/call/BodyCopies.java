package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.routing.OutputLimit;
import dev.tollgate.sidecar.wire.Json;

/**
 * The copies of the caller's body a call needs, without copying what nobody changes: a parsed body
 * weighs ten or more times its bytes (60,000 tiny messages take tens of MiB), so whole deep copies
 * per tier and per attempt are what ran the 96 MiB heap out. A tier changes only top-level fields
 * (the output limit); an attempt changes top-level fields ({@code model}), the OpenAI stream
 * options and, for prompt-cache marks, the system prompt and the tool definitions. Those are
 * copied; {@code messages}, the bulk of any body, is shared and never written.
 */
final class BodyCopies {
  /** The fields an attempt may change below the top level (forwarding, prompt-cache marks). */
  private static final String[] CHANGED_BY_ATTEMPT = {"stream_options", "system", "tools"};

  private BodyCopies() {}

  /**
   * The body of a tier with output limit {@code tierMax}: the caller's own when the tier sets no
   * limit (nothing changes it then: each attempt copies what it changes), else a top-level copy
   * with the limit applied.
   */
  static ObjectNode forTier(ObjectNode caller, Integer tierMax) {
    if (tierMax == null || tierMax <= 0) {
      return caller;
    }
    ObjectNode copy = shallow(caller);
    OutputLimit.apply(copy, tierMax);
    return copy;
  }

  /** A body one attempt may forward or translate and mark, leaving {@code body} as it was. */
  static ObjectNode forAttempt(ObjectNode body) {
    ObjectNode copy = shallow(body);
    for (String field : CHANGED_BY_ATTEMPT) {
      JsonNode v = body.get(field);
      if (v != null && v.isContainerNode()) {
        copy.set(field, v.deepCopy());
      }
    }
    return copy;
  }

  private static ObjectNode shallow(ObjectNode body) {
    ObjectNode copy = Json.object();
    copy.setAll(body);
    return copy;
  }
}
