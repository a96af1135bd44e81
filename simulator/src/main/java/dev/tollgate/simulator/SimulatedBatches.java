package dev.tollgate.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Anthropic Message Batches as the simulator keeps them: a created batch is {@code in_progress}
 * until {@link #delay} has passed, then {@code ended}; its results (JSONL, one line per item in
 * submission order) have every fourth item {@code errored} (overloaded) and the others {@code
 * succeeded} with 100 input tokens and min(max_tokens, 20) output tokens, so tests see partial
 * failures and can compute the exact price. At most {@value #MAX_BATCHES} batches are kept.
 */
final class SimulatedBatches {
  static final int MAX_BATCHES = 1000;
  static final int INPUT_TOKENS = 100;
  static final int OUTPUT_TOKENS = 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  private record Item(String customId, String model, long maxTokens) {}

  private record Batch(String id, long createdNanos, List<Item> items) {}

  private final Map<String, Batch> batches = new ConcurrentHashMap<>();
  private final AtomicInteger next = new AtomicInteger();
  private volatile Duration delay = Duration.ZERO;

  void delay(Duration d) {
    delay = d;
  }

  void reset() {
    batches.clear();
    delay = Duration.ZERO;
  }

  /** Keeps the batch {@code body} asks for and answers its object. */
  ObjectNode create(JsonNode body) {
    List<Item> items = new ArrayList<>();
    for (JsonNode r : body.path("requests")) {
      items.add(
          new Item(
              r.path("custom_id").asText(),
              r.at("/params/model").asText(),
              r.at("/params/max_tokens").asLong(0)));
    }
    if (batches.size() >= MAX_BATCHES) {
      batches.clear();
    }
    String id = "msgbatch_sim_" + next.incrementAndGet();
    Batch b = new Batch(id, System.nanoTime(), List.copyOf(items));
    batches.put(id, b);
    return object(b);
  }

  /** The batch's object, or null when there is no such batch. */
  ObjectNode retrieve(String id) {
    Batch b = batches.get(id);
    return b == null ? null : object(b);
  }

  /** The results as JSONL, or null when the batch does not exist or has not ended. */
  String results(String id) {
    Batch b = batches.get(id);
    if (b == null || !ended(b)) {
      return null;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < b.items().size(); i++) {
      Item item = b.items().get(i);
      ObjectNode line = JSON.createObjectNode().put("custom_id", item.customId());
      ObjectNode result = line.putObject("result");
      if (i % 4 == 3) {
        result.put("type", "errored");
        result
            .putObject("error")
            .put("type", "error")
            .putObject("error")
            .put("type", "overloaded_error")
            .put("message", "Overloaded");
      } else {
        result.put("type", "succeeded");
        ObjectNode m = result.putObject("message");
        m.put("id", "msg_sim_" + i).put("type", "message").put("role", "assistant");
        m.put("model", item.model());
        m.putArray("content").addObject().put("type", "text").put("text", "ok");
        m.put("stop_reason", "end_turn").putNull("stop_sequence");
        m.putObject("usage")
            .put("input_tokens", INPUT_TOKENS)
            .put("output_tokens", Math.min(item.maxTokens(), OUTPUT_TOKENS))
            .put("cache_read_input_tokens", 0)
            .put("cache_creation_input_tokens", 0);
      }
      out.append(line).append('\n');
    }
    return out.toString();
  }

  private boolean ended(Batch b) {
    return System.nanoTime() - b.createdNanos() >= delay.toNanos();
  }

  private ObjectNode object(Batch b) {
    boolean ended = ended(b);
    int n = b.items().size();
    int errored = ended ? n / 4 : 0;
    ObjectNode batch = JSON.createObjectNode().put("id", b.id()).put("type", "message_batch");
    batch.put("processing_status", ended ? "ended" : "in_progress");
    batch
        .putObject("request_counts")
        .put("processing", ended ? 0 : n)
        .put("succeeded", ended ? n - errored : 0)
        .put("errored", errored)
        .put("canceled", 0)
        .put("expired", 0);
    if (ended) {
      batch.put("ended_at", "2026-12-03T08:30:00Z");
      batch.put("results_url", "/v1/messages/batches/" + b.id() + "/results");
    } else {
      batch.putNull("ended_at").putNull("results_url");
    }
    batch.put("created_at", "2026-12-03T08:00:00Z").put("expires_at", "2026-12-04T08:00:00Z");
    batch.putNull("archived_at").putNull("cancel_initiated_at");
    return batch;
  }
}
