package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI Responses, at any path ending in {@code /responses} (Azure OpenAI's {@code
 * /openai/v1/responses} included): a response object with one message item (or one function call
 * when tools are offered and the behaviour calls one), and the stream as OpenAI sends it, from
 * {@code response.created} to {@code response.completed} (or {@code response.incomplete} when
 * {@code max_output_tokens} cut it), each event with its {@code sequence_number}.
 */
final class OpenAiResponsesDialect implements Dialect {
  private static final String ID = "resp_sim";
  private static final String MESSAGE_ID = "msg_sim";
  private static final String CALL_ITEM_ID = "fc_sim";

  @Override
  public boolean speaks(String path) {
    return path.endsWith("/responses");
  }

  @Override
  public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
    return new OpenAiDialect().apiKey(req, qs);
  }

  @Override
  public int maxTokens(JsonNode json) {
    return json.path("max_output_tokens").asInt(Integer.MAX_VALUE);
  }

  @Override
  public SimulatedPromptCache.Hit promptCacheHit(
      SimulatedPromptCache cache, String model, JsonNode json) {
    return null;
  }

  @Override
  public String rejection(String model, JsonNode json) {
    JsonNode input = json.path("input");
    return input.isTextual() || input.isArray() ? null : "'input' is required";
  }

  private static ObjectNode response(Call c, String status) {
    ObjectNode r = JSON.createObjectNode().put("id", ID).put("object", "response");
    r.put("created_at", 1_700_000_000L).put("status", status);
    r.putNull("error");
    if ("incomplete".equals(status)) {
      r.putObject("incomplete_details").put("reason", "max_output_tokens");
    } else {
      r.putNull("incomplete_details");
    }
    JsonNode req = c.request();
    r.set(
        "instructions", req.path("instructions").isMissingNode() ? null : req.get("instructions"));
    r.put("model", c.model());
    r.putArray("output");
    r.put("parallel_tool_calls", true);
    r.putNull("previous_response_id");
    r.put("store", true);
    r.putNull("temperature");
    r.putObject("text").putObject("format").put("type", "text");
    r.put("tool_choice", "auto");
    r.set("tools", req.path("tools").isArray() ? req.get("tools") : JSON.createArrayNode());
    r.putNull("top_p");
    r.put("truncation", "disabled");
    r.putNull("usage");
    r.putObject("metadata");
    return r;
  }

  private static String status(Call c) {
    return c.truncated() && !c.toolCall() ? "incomplete" : "completed";
  }

  private static ObjectNode usage(Call c) {
    ObjectNode u = JSON.createObjectNode();
    int input = c.input() + c.cacheRead();
    u.put("input_tokens", input);
    u.putObject("input_tokens_details").put("cached_tokens", c.cacheRead());
    u.put("output_tokens", c.output());
    u.putObject("output_tokens_details").put("reasoning_tokens", 0);
    u.put("total_tokens", input + c.output());
    return u;
  }

  private static ObjectNode message(String text, String status) {
    ObjectNode m = JSON.createObjectNode().put("id", MESSAGE_ID).put("type", "message");
    m.put("status", status).put("role", "assistant");
    ArrayNode content = m.putArray("content");
    if (text != null) {
      content.add(outputText(text));
    }
    return m;
  }

  private static ObjectNode outputText(String text) {
    ObjectNode t = JSON.createObjectNode().put("type", "output_text").put("text", text);
    t.putArray("annotations");
    t.putArray("logprobs");
    return t;
  }

  private static ObjectNode functionCall(Call c, String arguments, String status) {
    return JSON.createObjectNode()
        .put("id", CALL_ITEM_ID)
        .put("type", "function_call")
        .put("status", status)
        .put("call_id", "call_sim_1")
        .put("name", c.b().toolCallName())
        .put("arguments", arguments);
  }

  private static ObjectNode item(Call c) {
    return c.toolCall()
        ? functionCall(c, c.b().toolCallArguments(), "completed")
        : message(Call.text(c.output()), "completed");
  }

  @Override
  public ObjectNode full(Call c) {
    ObjectNode r = response(c, status(c));
    ((ArrayNode) r.get("output")).add(item(c));
    if (!c.b().omitUsage()) {
      r.set("usage", usage(c));
    }
    return r;
  }

  @Override
  public List<Frame> frames(Call c) {
    Events e = new Events();
    ObjectNode started = response(c, "in_progress");
    e.add("response.created", JSON.createObjectNode().set("response", started), 0);
    e.add("response.in_progress", JSON.createObjectNode().set("response", started), 0);
    if (c.toolCall()) {
      ObjectNode added = JSON.createObjectNode().put("output_index", 0);
      added.set("item", functionCall(c, "", "in_progress"));
      // a tool call's output tokens are counted once, on the frame that opens it
      e.add("response.output_item.added", added, c.output());
      String args = c.b().toolCallArguments();
      int half = args.length() / 2;
      for (String part : List.of(args.substring(0, half), args.substring(half))) {
        e.add(
            "response.function_call_arguments.delta",
            itemEvent(CALL_ITEM_ID).put("delta", part),
            0);
      }
      e.add(
          "response.function_call_arguments.done",
          itemEvent(CALL_ITEM_ID).put("name", c.b().toolCallName()).put("arguments", args),
          0);
    } else {
      ObjectNode added = JSON.createObjectNode().put("output_index", 0);
      added.set("item", message(null, "in_progress"));
      e.add("response.output_item.added", added, 0);
      ObjectNode part = itemEvent(MESSAGE_ID).put("content_index", 0);
      part.set("part", outputText(""));
      e.add("response.content_part.added", part, 0);
      for (int i = 0; i < c.output(); i++) {
        ObjectNode d = itemEvent(MESSAGE_ID).put("content_index", 0).put("delta", Call.token(i));
        d.putArray("logprobs");
        e.add("response.output_text.delta", d, 1);
      }
      String text = Call.text(c.output());
      ObjectNode textDone = itemEvent(MESSAGE_ID).put("content_index", 0).put("text", text);
      textDone.putArray("logprobs");
      e.add("response.output_text.done", textDone, 0);
      ObjectNode partDone = itemEvent(MESSAGE_ID).put("content_index", 0);
      partDone.set("part", outputText(text));
      e.add("response.content_part.done", partDone, 0);
    }
    ObjectNode itemDone = JSON.createObjectNode().put("output_index", 0);
    itemDone.set("item", item(c));
    e.add("response.output_item.done", itemDone, 0);
    ObjectNode completed = full(c);
    e.add(
        "incomplete".equals(status(c)) ? "response.incomplete" : "response.completed",
        JSON.createObjectNode().set("response", completed),
        0);
    return e.frames;
  }

  private static ObjectNode itemEvent(String itemId) {
    return JSON.createObjectNode().put("item_id", itemId).put("output_index", 0);
  }

  /** Frames numbered as OpenAI numbers them. */
  private static final class Events {
    final List<Frame> frames = new ArrayList<>();

    void add(String type, JsonNode data, int tokens) {
      ObjectNode o = JSON.createObjectNode().put("type", type);
      o.setAll((ObjectNode) data);
      o.put("sequence_number", frames.size());
      frames.add(new Frame(type, o.toString(), tokens));
    }
  }

  @Override
  public ObjectNode error(int status, String message) {
    return new OpenAiDialect().error(status, message);
  }
}
