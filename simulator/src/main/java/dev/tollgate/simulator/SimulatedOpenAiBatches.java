package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * OpenAI Batches as the simulator keeps them. {@code POST /v1/batches} checks {@code input_file_id}
 * (a stored file of purpose {@code batch}), {@code endpoint} and {@code completion_window} as
 * OpenAI does (400/404 in OpenAI's error shape), answers {@code validating}, then the batch is
 * {@code in_progress} until {@link #delay} has passed and {@code completed} after. Its input lines
 * are checked as OpenAI checks them ({@code custom_id} unique, {@code method} POST, {@code url} the
 * batch's endpoint, {@code body} an object, one model per file); a file that breaks a rule makes
 * the batch {@code failed} with {@code errors}. A completed batch has an output file (one line per
 * succeeded item, in input order, with a real-looking body of the endpoint carrying {@code model}
 * and {@code usage}: {@value SimulatedBatches#INPUT_TOKENS} input tokens, min(max tokens, {@value
 * SimulatedBatches#OUTPUT_TOKENS}) output) and an error file (every fourth item, answered 500). A
 * batch cancelled before it ends is {@code cancelling}, then {@code cancelled}, with no output. At
 * most {@value SimulatedBatches#MAX_BATCHES} batches are kept.
 */
final class SimulatedOpenAiBatches {
  static final Set<String> ENDPOINTS =
      Set.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses");
  static final int MAX_REQUESTS = 50_000;
  private static final long CREATED_AT = 1_764_748_800L; // 2025-12-03T08:00:00Z

  /** A refusal of {@code POST /v1/batches}: HTTP status and OpenAI's error body. */
  record Refusal(int status, ObjectNode body) {}

  private record Item(String customId, String model, long maxTokens) {}

  private static final class Batch {
    final String id;
    final String endpoint;
    final String inputFileId;
    final long createdNanos = System.nanoTime();
    final List<Item> items;
    final ObjectNode errors; // null unless the input broke a rule
    final JsonNode metadata;
    boolean cancelled;
    boolean cancelSeen;
    String outputFileId;
    String errorFileId;

    Batch(
        String id,
        String endpoint,
        String inputFileId,
        List<Item> items,
        ObjectNode errors,
        JsonNode metadata) {
      this.id = id;
      this.endpoint = endpoint;
      this.inputFileId = inputFileId;
      this.items = items;
      this.errors = errors;
      this.metadata = metadata;
    }
  }

  private final SimulatedFiles files;
  private final Map<String, Batch> batches = new LinkedHashMap<>();
  private final AtomicInteger next = new AtomicInteger();
  private volatile Duration delay = Duration.ZERO;

  SimulatedOpenAiBatches(SimulatedFiles files) {
    this.files = files;
  }

  void delay(Duration d) {
    delay = d;
  }

  synchronized void reset() {
    batches.clear();
    delay = Duration.ZERO;
  }

  /** Creates the batch {@code body} asks for: its object, or the refusal OpenAI would answer. */
  synchronized Object create(JsonNode body) {
    if (body == null || !body.isObject()) {
      return refusal(400, "We could not parse the JSON body of your request.", null);
    }
    for (String required : List.of("input_file_id", "endpoint", "completion_window")) {
      if (!body.path(required).isTextual()) {
        return refusal(400, "Missing required parameter: '" + required + "'.", required);
      }
    }
    String endpoint = body.get("endpoint").asText();
    if (!ENDPOINTS.contains(endpoint)) {
      return refusal(
          400,
          "Invalid value for 'endpoint': expected one of " + String.join(", ", ENDPOINTS) + ".",
          "endpoint");
    }
    if (!body.get("completion_window").asText().equals("24h")) {
      return refusal(
          400,
          "Invalid value for 'completion_window': only '24h' is supported.",
          "completion_window");
    }
    String fileId = body.get("input_file_id").asText();
    SimulatedFiles.StoredFile file = files.get(fileId);
    if (file == null) {
      return refusal(404, "No such File object: " + fileId, "input_file_id");
    }
    if (!file.purpose().equals("batch")) {
      return refusal(
          400,
          "The file " + fileId + " has purpose '" + file.purpose() + "'; a batch needs 'batch'.",
          "input_file_id");
    }
    List<Item> items = new ArrayList<>();
    ObjectNode errors = readInput(file.content(), endpoint, items);
    if (batches.size() >= SimulatedBatches.MAX_BATCHES) {
      batches.remove(batches.keySet().iterator().next());
    }
    String id = "batch_sim_" + next.incrementAndGet();
    Batch b = new Batch(id, endpoint, fileId, List.copyOf(items), errors, body.path("metadata"));
    batches.put(id, b);
    ObjectNode created = object(b);
    created.put("status", "validating");
    return created;
  }

  /** The batch's object, or null when there is no such batch. */
  synchronized ObjectNode retrieve(String id) {
    Batch b = batches.get(id);
    return b == null ? null : object(b);
  }

  /** Cancels the batch: its object, a refusal when it has ended, or null when there is none. */
  synchronized Object cancel(String id) {
    Batch b = batches.get(id);
    if (b == null) {
      return null;
    }
    if (!b.cancelled && (b.errors != null || ended(b))) {
      return refusal(
          409,
          "Cannot cancel a batch with status '" + object(b).get("status").asText() + "'.",
          null);
    }
    b.cancelled = true;
    ObjectNode r = object(b);
    if (!b.cancelSeen) {
      b.cancelSeen = true;
      r.put("status", "cancelling").putNull("cancelled_at");
    }
    return r;
  }

  /** The batches, newest first, at most {@code limit}. */
  synchronized List<ObjectNode> list(int limit) {
    List<ObjectNode> all = new ArrayList<>();
    for (Batch b : batches.values()) {
      all.add(0, object(b));
    }
    return all.subList(0, Math.min(limit, all.size()));
  }

  private static Refusal refusal(int status, String message, String param) {
    ObjectNode r = new OpenAiDialect().error(status, message);
    if (param != null) {
      ((ObjectNode) r.get("error")).put("param", param);
    }
    return new Refusal(status, r);
  }

  /** Reads the input into {@code items}; OpenAI's {@code errors} object when a line is wrong. */
  private static ObjectNode readInput(byte[] content, String endpoint, List<Item> items) {
    String[] lines = new String(content, StandardCharsets.UTF_8).split("\n");
    Set<String> ids = new HashSet<>();
    String firstModel = null;
    for (int n = 0; n < lines.length; n++) {
      String text = lines[n].strip();
      if (text.isEmpty()) {
        continue;
      }
      int line = n + 1;
      JsonNode l = Http.parse(text);
      if (l == null || !l.isObject()) {
        return errors("invalid_json_line", "This line is not parseable as valid JSON.", line);
      }
      if (!l.path("custom_id").isTextual() || !ids.add(l.get("custom_id").asText())) {
        return errors(
            "duplicate_custom_id", "Each line needs a custom_id that no other line has.", line);
      }
      if (!l.path("method").asText().equals("POST")) {
        return errors("invalid_method", "The method must be POST.", line);
      }
      if (!l.path("url").asText().equals(endpoint)) {
        return errors(
            "mismatched_endpoint",
            "The url of this line does not match the batch's endpoint " + endpoint + ".",
            line);
      }
      JsonNode body = l.path("body");
      if (!body.isObject() || !body.path("model").isTextual()) {
        return errors("missing_required_parameter", "The body must name a model.", line);
      }
      String model = body.get("model").asText();
      if (firstModel == null) {
        firstModel = model;
      } else if (!firstModel.equals(model)) {
        return errors(
            "model_mismatch",
            "Each input file can only include requests to a single model; this line asks for "
                + model
                + ", the first asked for "
                + firstModel
                + ".",
            line);
      }
      if (items.size() == MAX_REQUESTS) {
        return errors("too_many_requests", "A batch holds at most 50,000 requests.", line);
      }
      long max =
          body.path(
                  body.has("max_completion_tokens")
                      ? "max_completion_tokens"
                      : body.has("max_output_tokens") ? "max_output_tokens" : "max_tokens")
              .asLong(SimulatedBatches.OUTPUT_TOKENS);
      items.add(new Item(l.get("custom_id").asText(), model, max));
    }
    if (items.isEmpty()) {
      return errors("empty_file", "The input file holds no requests.", null);
    }
    return null;
  }

  private static ObjectNode errors(String code, String message, Integer line) {
    ObjectNode e = JSON.createObjectNode().put("object", "list");
    ObjectNode d = e.putArray("data").addObject().put("code", code).put("message", message);
    d.putNull("param");
    if (line == null) {
      d.putNull("line");
    } else {
      d.put("line", line);
    }
    return e;
  }

  private boolean ended(Batch b) {
    return System.nanoTime() - b.createdNanos >= delay.toNanos();
  }

  private String status(Batch b) {
    if (b.errors != null) {
      return "failed";
    }
    if (b.cancelled) {
      return "cancelled";
    }
    return ended(b) ? "completed" : "in_progress";
  }

  private ObjectNode object(Batch b) {
    String status = status(b);
    if (status.equals("completed") && b.outputFileId == null) {
      writeResults(b);
    }
    int n = b.items.size();
    boolean completed = status.equals("completed");
    ObjectNode o = JSON.createObjectNode().put("id", b.id).put("object", "batch");
    o.put("endpoint", b.endpoint);
    if (b.errors == null) {
      o.putNull("errors");
    } else {
      o.set("errors", b.errors);
    }
    o.put("input_file_id", b.inputFileId).put("completion_window", "24h");
    o.put("status", status);
    o.put("output_file_id", b.outputFileId).put("error_file_id", b.errorFileId);
    o.put("created_at", CREATED_AT);
    putTime(o, "in_progress_at", b.errors == null, CREATED_AT + 1);
    o.put("expires_at", CREATED_AT + 86_400);
    putTime(o, "finalizing_at", completed, CREATED_AT + 1_700);
    putTime(o, "completed_at", completed, CREATED_AT + 1_800);
    putTime(o, "failed_at", b.errors != null, CREATED_AT + 1);
    o.putNull("expired_at");
    putTime(o, "cancelling_at", b.cancelled, CREATED_AT + 60);
    putTime(o, "cancelled_at", b.cancelled, CREATED_AT + 61);
    int failed = completed ? n / 4 : 0;
    o.putObject("request_counts")
        .put("total", b.errors == null ? n : 0)
        .put("completed", completed ? n - failed : 0)
        .put("failed", failed);
    if (b.metadata.isObject()) {
      o.set("metadata", b.metadata);
    } else {
      o.putNull("metadata");
    }
    return o;
  }

  private static void putTime(ObjectNode o, String field, boolean set, long value) {
    if (set) {
      o.put(field, value);
    } else {
      o.putNull(field);
    }
  }

  private void writeResults(Batch b) {
    StringBuilder out = new StringBuilder();
    StringBuilder err = new StringBuilder();
    for (int i = 0; i < b.items.size(); i++) {
      Item item = b.items.get(i);
      ObjectNode line = JSON.createObjectNode().put("id", "batch_req_sim_" + b.id + "_" + i);
      line.put("custom_id", item.customId());
      ObjectNode response = line.putObject("response");
      response.put("request_id", "req_sim_" + i);
      if (i % 4 == 3) {
        response.put("status_code", 500);
        response.set(
            "body",
            new OpenAiDialect()
                .error(500, "The server had an error while processing your request. Sorry!"));
        line.putNull("error");
        err.append(line).append('\n');
      } else {
        response.put("status_code", 200);
        response.set("body", body(b.endpoint, item, i));
        line.putNull("error");
        out.append(line).append('\n');
      }
    }
    b.outputFileId = files.store(b.id + "_output.jsonl", "batch_output", bytes(out)).id();
    b.errorFileId =
        err.isEmpty() ? null : files.store(b.id + "_error.jsonl", "batch_output", bytes(err)).id();
  }

  private static byte[] bytes(StringBuilder s) {
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** A body as the endpoint answers it, with {@code model} and {@code usage}. */
  private static ObjectNode body(String endpoint, Item item, int i) {
    long in = SimulatedBatches.INPUT_TOKENS;
    long out = Math.min(Math.max(0, item.maxTokens()), SimulatedBatches.OUTPUT_TOKENS);
    ObjectNode r = JSON.createObjectNode();
    switch (endpoint) {
      case "/v1/embeddings" -> {
        r.put("object", "list");
        ObjectNode e = r.putArray("data").addObject().put("object", "embedding").put("index", 0);
        e.putArray("embedding").add(0.1).add(0.2).add(0.3);
        r.put("model", item.model());
        r.putObject("usage").put("prompt_tokens", in).put("total_tokens", in);
      }
      case "/v1/responses" -> {
        r.put("id", "resp_sim_batch_" + i).put("object", "response");
        r.put("created_at", CREATED_AT + 900).put("status", "completed");
        r.put("model", item.model());
        ObjectNode msg = r.putArray("output").addObject().put("type", "message");
        msg.put("id", "msg_sim_batch_" + i).put("status", "completed").put("role", "assistant");
        msg.putArray("content")
            .addObject()
            .put("type", "output_text")
            .put("text", "ok")
            .putArray("annotations");
        ObjectNode u = r.putObject("usage").put("input_tokens", in);
        u.putObject("input_tokens_details").put("cached_tokens", 0);
        u.put("output_tokens", out);
        u.putObject("output_tokens_details").put("reasoning_tokens", 0);
        u.put("total_tokens", in + out);
      }
      default -> {
        boolean chat = endpoint.equals("/v1/chat/completions");
        r.put("id", (chat ? "chatcmpl-sim-batch-" : "cmpl-sim-batch-") + i);
        r.put("object", chat ? "chat.completion" : "text_completion");
        r.put("created", CREATED_AT + 900).put("model", item.model());
        ObjectNode choice = r.putArray("choices").addObject().put("index", 0);
        if (chat) {
          choice
              .putObject("message")
              .put("role", "assistant")
              .put("content", "ok")
              .putNull("refusal");
        } else {
          choice.put("text", "ok");
        }
        choice.putNull("logprobs").put("finish_reason", out < 20 ? "length" : "stop");
        ObjectNode u = r.putObject("usage").put("prompt_tokens", in);
        u.put("completion_tokens", out).put("total_tokens", in + out);
        u.putObject("prompt_tokens_details").put("cached_tokens", 0);
        u.putObject("completion_tokens_details").put("reasoning_tokens", 0);
        r.put("service_tier", "default").putNull("system_fingerprint");
      }
    }
    return r;
  }
}
