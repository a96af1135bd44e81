package dev.tollgate.sidecar.routing;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A tier's {@code maxTokens}: clamps the caller's output limit and sets one when the caller gave
 * none, since output tokens cost several times input tokens. Works on the caller's body before
 * translation, so both API formats are covered ({@code max_tokens}, and OpenAI's newer {@code
 * max_completion_tokens}).
 */
public final class OutputLimit {
  private OutputLimit() {}

  public static void apply(ObjectNode body, Integer tierMax) {
    if (tierMax == null || tierMax <= 0) {
      return;
    }
    boolean any = false;
    for (String field : new String[] {"max_tokens", "max_completion_tokens"}) {
      if (body.has(field) && body.get(field).canConvertToLong()) {
        any = true;
        if (body.get(field).asLong() > tierMax) {
          body.put(field, tierMax);
        }
      }
    }
    if (!any) {
      body.put("max_tokens", tierMax);
    }
  }

  /** The output tokens a request may produce, for rate-limit reservations; 0 when unknown. */
  public static long requested(ObjectNode body) {
    long n = body.path("max_completion_tokens").asLong(0);
    return n > 0 ? n : Math.max(0, body.path("max_tokens").asLong(0));
  }
}
