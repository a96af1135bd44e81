package dev.tollgate.sidecar.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.report.Money;
import dev.tollgate.sidecar.wire.Json;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole answer as the cache keeps it: provider-neutral (so it replays as JSON or as a stream, in
 * the OpenAI or the Anthropic format, whichever the caller used), with the usage and cost of the
 * call that produced it (what a hit saves) and the target that answered.
 *
 * @param costUsd what the original call cost, or null when its model has no price
 */
public record CachedAnswer(
    ChatResponse response,
    String tier,
    String provider,
    String credential,
    String model,
    BigDecimal costUsd) {

  private static final int FORMAT = 1;

  /** The JSON the cache stores (and whose length it weighs), e.g. in Redis. */
  public byte[] toBytes() {
    return toBytes(-1);
  }

  /**
   * The JSON the cache stores, with when it was cached (epoch milliseconds; negative: not said), so
   * a reader can tell a fresh answer from one kept past its ttl for serving stale.
   */
  public byte[] toBytes(long storedAtMillis) {
    ObjectNode o = Json.object().put("v", FORMAT);
    if (storedAtMillis >= 0) {
      o.put("storedAt", storedAtMillis);
    }
    o.put("id", response.id()).put("responseModel", response.model());
    o.put("finish", response.finish().name());
    Usage u = response.usage();
    o.putArray("usage")
        .add(u.inputTokens())
        .add(u.outputTokens())
        .add(u.cacheReadTokens())
        .add(u.cacheWriteTokens());
    ArrayNode parts = o.putArray("content");
    for (ChatRequest.Part p : response.content()) {
      if (p instanceof ChatRequest.Text t) {
        parts.addObject().put("text", t.text());
      } else if (p instanceof ChatRequest.ToolCall c) {
        parts
            .addObject()
            .put("toolCallId", c.id())
            .put("name", c.name())
            .put("arguments", c.argumentsJson());
      }
    }
    o.put("tier", tier).put("provider", provider).put("credential", credential);
    o.put("model", model);
    if (costUsd != null) {
      o.put("costUsd", costUsd.toPlainString());
    }
    return Json.write(o).getBytes(StandardCharsets.UTF_8);
  }

  /** An answer read back from storage, and when it was cached (-1: the writer did not say). */
  public record Stored(CachedAnswer answer, long storedAtMillis) {}

  /** The answer {@link #toBytes()} wrote, or null when {@code bytes} is not one (other version). */
  public static CachedAnswer fromBytes(byte[] bytes) {
    Stored s = readStored(bytes);
    return s == null ? null : s.answer();
  }

  /**
   * The answer and time {@link #toBytes(long)} wrote, or null when {@code bytes} is not one. A time
   * that is not a non-negative integer counts as not said.
   */
  public static Stored readStored(byte[] bytes) {
    JsonNode o = bytes == null ? null : Json.parseOrNull(bytes);
    if (o == null || o.path("v").asInt() != FORMAT) {
      return null;
    }
    JsonNode at = o.path("storedAt");
    long storedAt = at.isIntegralNumber() && at.canConvertToLong() ? Math.max(-1, at.asLong()) : -1;
    CachedAnswer a = parse(o);
    return a == null ? null : new Stored(a, storedAt);
  }

  private static CachedAnswer parse(JsonNode o) {
    try {
      List<ChatRequest.Part> content = new ArrayList<>();
      for (JsonNode p : o.path("content")) {
        if (p.has("text")) {
          content.add(new ChatRequest.Text(p.get("text").asText()));
        } else {
          content.add(
              new ChatRequest.ToolCall(
                  p.path("toolCallId").asText(),
                  p.path("name").asText(),
                  p.path("arguments").asText()));
        }
      }
      JsonNode u = o.path("usage");
      Usage usage =
          new Usage(count(u.path(0)), count(u.path(1)), count(u.path(2)), count(u.path(3)));
      ChatResponse r =
          new ChatResponse(
              o.path("id").asText(),
              o.path("responseModel").asText(),
              content,
              FinishReason.valueOf(o.path("finish").asText()),
              usage);
      return new CachedAnswer(
          r,
          o.path("tier").asText(null),
          o.path("provider").asText(null),
          o.path("credential").asText(null),
          o.path("model").asText(null),
          o.hasNonNull("costUsd") ? Money.parse(o.get("costUsd").asText()) : null);
    } catch (RuntimeException e) {
      // written by something else, or by another tenant of a shared Redis: a miss, not a failure.
      // The cost is checked before it becomes a BigDecimal ("1E+100000" would stall every sum
      // it enters, "-1000" would undo spend) and counts must be non-negative numbers.
      return null;
    }
  }

  /** A token count read back from storage: a non-negative integer, else the entry is refused. */
  private static long count(JsonNode n) {
    if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
      throw new IllegalArgumentException("not a token count: " + n);
    }
    return n.asLong();
  }

  /**
   * Whether an answer may be cached: it finished normally (stop, a stop sequence, the token cap or
   * tool calls, all deterministic given the key) and its usage is known (a hit meters what it
   * saved). Filtered answers and unknown finishes are not kept.
   */
  public static boolean cacheable(ChatResponse r) {
    if (r == null || r.usage() == null || r.finish() == null) {
      return false;
    }
    return switch (r.finish()) {
      case STOP, STOP_SEQUENCE, LENGTH, TOOL_CALLS -> !r.content().isEmpty();
      case CONTENT_FILTER, OTHER -> false;
    };
  }
}
