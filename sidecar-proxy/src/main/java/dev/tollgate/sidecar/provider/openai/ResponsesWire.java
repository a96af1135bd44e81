package dev.tollgate.sidecar.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatRequest.Message;
import dev.tollgate.sidecar.chat.ChatRequest.Part;
import dev.tollgate.sidecar.chat.ChatRequest.Role;
import dev.tollgate.sidecar.chat.ChatRequest.Text;
import dev.tollgate.sidecar.chat.ChatRequest.ToolCall;
import dev.tollgate.sidecar.chat.ChatRequest.ToolResult;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import dev.tollgate.sidecar.wire.StreamEncoder;
import dev.tollgate.sidecar.wire.StreamScan;
import dev.tollgate.sidecar.wire.UsageAccumulator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's Responses API ({@code /v1/responses}) and the neutral model: requests read for
 * translation (text, multi-turn {@code input} items, {@code instructions}, function tools, their
 * calls and outputs), answers and streams written for callers whose call another provider served,
 * and OpenAI's own answers and streams read for metering. What only OpenAI can serve (stored state
 * such as {@code previous_response_id}, built-in tools, structured output, non-text input) is
 * refused with a 400 when it would need translation.
 */
public final class ResponsesWire {
  private ResponsesWire() {}

  private static final String ONLY_OPENAI =
      " cannot be translated to this route's provider; only OpenAI-format targets serve it";

  // ---- requests ----

  public static ChatRequest parseRequest(JsonNode body) {
    for (String stateful : List.of("previous_response_id", "conversation")) {
      if (body.hasNonNull(stateful)) {
        throw invalid(
            "'"
                + stateful
                + "' refers to state stored at OpenAI and"
                + ONLY_OPENAI
                + "; send the whole conversation in 'input' instead");
      }
    }
    String format = body.path("text").path("format").path("type").asText("text");
    if (!"text".equals(format)) {
      throw invalid("text.format '" + format + "'" + ONLY_OPENAI);
    }
    StringBuilder system = new StringBuilder(body.path("instructions").asText(""));
    List<Message> messages = new ArrayList<>();
    JsonNode input = body.get("input");
    if (input != null && input.isTextual()) {
      messages.add(new Message(Role.USER, List.of(new Text(input.asText()))));
    } else if (input != null && input.isArray()) {
      for (int i = 0; i < input.size(); i++) {
        readItem(input.get(i), i, system, messages);
      }
    } else {
      throw invalid("'input' must be a string or an array of input items");
    }
    if (messages.isEmpty()) {
      throw invalid("'input' holds no message to answer");
    }
    List<ChatRequest.Tool> tools = new ArrayList<>();
    for (JsonNode t : body.path("tools")) {
      String type = t.path("type").asText();
      if (!"function".equals(type)) {
        throw invalid("the built-in tool '" + type + "'" + ONLY_OPENAI);
      }
      tools.add(
          new ChatRequest.Tool(
              Json.text(t, "name"), Json.text(t, "description"), t.get("parameters")));
    }
    Integer maxTokens =
        body.hasNonNull("max_output_tokens")
            ? Integer.valueOf(body.get("max_output_tokens").asInt())
            : body.hasNonNull("max_tokens")
                ? Integer.valueOf(body.get("max_tokens").asInt())
                : null;
    return ChatRequest.builder(Json.text(body, "model"), messages)
        .system(system.isEmpty() ? null : system.toString())
        .maxTokens(maxTokens)
        .temperature(body.hasNonNull("temperature") ? body.get("temperature").asDouble() : null)
        .topP(body.hasNonNull("top_p") ? body.get("top_p").asDouble() : null)
        .tools(tools)
        .toolChoice(toolChoice(body.get("tool_choice")))
        .stream(body.path("stream").asBoolean(false))
        .build();
  }

  private static void readItem(JsonNode item, int i, StringBuilder system, List<Message> messages) {
    String type = item.path("type").asText(item.has("role") ? "message" : "");
    switch (type) {
      case "message" -> {
        String role = item.path("role").asText();
        String text = contentText(item.get("content"), i);
        switch (role) {
          case "system", "developer" -> {
            if (!system.isEmpty()) {
              system.append("\n\n");
            }
            system.append(text);
          }
          case "user" -> messages.add(new Message(Role.USER, List.of(new Text(text))));
          case "assistant" -> {
            if (!text.isEmpty()) {
              messages.add(new Message(Role.ASSISTANT, List.of(new Text(text))));
            }
          }
          default -> throw invalid("input[" + i + "].role '" + role + "' is not supported");
        }
      }
      case "function_call" -> {
        ToolCall call =
            new ToolCall(
                Json.text(item, "call_id"),
                Json.text(item, "name"),
                item.path("arguments").asText("{}"));
        Message last = messages.isEmpty() ? null : messages.get(messages.size() - 1);
        if (last != null && last.role() == Role.ASSISTANT) {
          // one assistant turn: its text and the calls it made
          List<Part> parts = new ArrayList<>(last.parts());
          parts.add(call);
          messages.set(messages.size() - 1, new Message(Role.ASSISTANT, parts));
        } else {
          messages.add(new Message(Role.ASSISTANT, List.of(call)));
        }
      }
      case "function_call_output" -> {
        JsonNode output = item.get("output");
        String text =
            output != null && output.isTextual() ? output.asText() : contentText(output, i);
        messages.add(
            new Message(
                Role.TOOL, List.of(new ToolResult(Json.text(item, "call_id"), text, false))));
      }
      case "reasoning" -> {
        // the model's own reasoning summary of an earlier turn: no other provider reads it
      }
      default -> throw invalid("input[" + i + "] of type '" + type + "'" + ONLY_OPENAI);
    }
  }

  private static String contentText(JsonNode content, int i) {
    if (content == null || content.isNull()) {
      return "";
    }
    if (content.isTextual()) {
      return content.asText();
    }
    StringBuilder sb = new StringBuilder();
    for (JsonNode part : content) {
      String type = part.path("type").asText();
      switch (type) {
        case "input_text", "output_text", "text" -> sb.append(part.path("text").asText());
        default -> throw invalid("input[" + i + "] content of type '" + type + "'" + ONLY_OPENAI);
      }
    }
    return sb.toString();
  }

  private static ChatRequest.ToolChoice toolChoice(JsonNode c) {
    if (c == null || c.isNull()) {
      return null;
    }
    if (c.isTextual()) {
      return switch (c.asText()) {
        case "none" -> new ChatRequest.ToolChoice(ChatRequest.ToolChoice.Mode.NONE, null);
        case "required" -> new ChatRequest.ToolChoice(ChatRequest.ToolChoice.Mode.ANY, null);
        default -> new ChatRequest.ToolChoice(ChatRequest.ToolChoice.Mode.AUTO, null);
      };
    }
    if ("function".equals(c.path("type").asText()) && c.hasNonNull("name")) {
      return new ChatRequest.ToolChoice(ChatRequest.ToolChoice.Mode.NAMED, c.get("name").asText());
    }
    throw invalid("tool_choice of type '" + c.path("type").asText() + "'" + ONLY_OPENAI);
  }

  // ---- answers ----

  /** A whole Responses answer with the fields OpenAI's SDKs read. */
  public static ObjectNode renderResponse(ChatResponse r) {
    String id = responseId(r.id());
    ObjectNode root = skeleton(id, r.model(), System.currentTimeMillis() / 1000);
    boolean incomplete =
        r.finish() == FinishReason.LENGTH || r.finish() == FinishReason.CONTENT_FILTER;
    root.put("status", incomplete ? "incomplete" : "completed");
    if (incomplete) {
      root.putObject("incomplete_details")
          .put(
              "reason", r.finish() == FinishReason.LENGTH ? "max_output_tokens" : "content_filter");
    }
    ArrayNode output = root.putArray("output");
    String text = r.text();
    if (!text.isEmpty()) {
      output.add(messageItem("msg_" + suffix(id), text, "completed"));
    }
    int n = 0;
    for (Part p : r.content()) {
      if (p instanceof ToolCall c) {
        output.add(
            functionCallItem(
                "fc_" + suffix(id) + "_" + n++, c.id(), c.name(), c.argumentsJson(), "completed"));
      }
    }
    if (r.usage() != null) {
      root.set("usage", usage(r.usage()));
    }
    return root;
  }

  /** The fields every response object carries, answer aside. */
  static ObjectNode skeleton(String id, String model, long createdAt) {
    ObjectNode o = Json.object().put("id", id).put("object", "response");
    o.put("created_at", createdAt).put("status", "in_progress");
    o.putNull("error");
    o.putNull("incomplete_details");
    o.putNull("instructions");
    o.putNull("max_output_tokens");
    o.put("model", model == null ? "" : model);
    o.putArray("output");
    o.put("parallel_tool_calls", true);
    o.putNull("previous_response_id");
    o.putObject("reasoning").putNull("effort").putNull("summary");
    o.put("store", false);
    o.putNull("temperature");
    o.putObject("text").putObject("format").put("type", "text");
    o.put("tool_choice", "auto");
    o.putArray("tools");
    o.putNull("top_p");
    o.put("truncation", "disabled");
    o.putNull("usage");
    o.putNull("user");
    o.putObject("metadata");
    return o;
  }

  static ObjectNode messageItem(String id, String text, String status) {
    ObjectNode m = Json.object().put("id", id).put("type", "message").put("status", status);
    m.put("role", "assistant");
    ArrayNode content = m.putArray("content");
    if (text != null) {
      content.add(outputText(text));
    }
    return m;
  }

  static ObjectNode outputText(String text) {
    ObjectNode t = Json.object().put("type", "output_text").put("text", text);
    t.putArray("annotations");
    t.putArray("logprobs");
    return t;
  }

  static ObjectNode functionCallItem(
      String id, String callId, String name, String arguments, String status) {
    return Json.object()
        .put("id", id)
        .put("type", "function_call")
        .put("status", status)
        .put("call_id", callId)
        .put("name", name)
        .put("arguments", arguments);
  }

  static ObjectNode usage(Usage u) {
    ObjectNode o = Json.object();
    o.put("input_tokens", u.promptTokens());
    o.putObject("input_tokens_details").put("cached_tokens", u.cacheReadTokens());
    o.put("output_tokens", u.outputTokens());
    o.putObject("output_tokens_details").put("reasoning_tokens", 0);
    o.put("total_tokens", u.promptTokens() + u.outputTokens());
    return o;
  }

  private static String responseId(String id) {
    if (id == null || id.isEmpty()) {
      return "resp_tollgate";
    }
    return id.startsWith("resp_") ? id : "resp_" + id;
  }

  private static String suffix(String responseId) {
    return responseId.startsWith("resp_") ? responseId.substring(5) : responseId;
  }

  /** Reads OpenAI's whole Responses answer. */
  public static ChatResponse decodeResponse(JsonNode body) {
    List<Part> parts = new ArrayList<>();
    boolean calls = false;
    for (JsonNode item : body.path("output")) {
      switch (item.path("type").asText()) {
        case "message" -> {
          StringBuilder sb = new StringBuilder();
          for (JsonNode c : item.path("content")) {
            if ("output_text".equals(c.path("type").asText())) {
              sb.append(c.path("text").asText());
            }
          }
          if (!sb.isEmpty()) {
            parts.add(new Text(sb.toString()));
          }
        }
        case "function_call" -> {
          calls = true;
          parts.add(
              new ToolCall(
                  Json.text(item, "call_id"),
                  Json.text(item, "name"),
                  item.path("arguments").asText("{}")));
        }
        default -> {
          // reasoning and built-in tool calls: relayed as sent, not kept in the neutral answer
        }
      }
    }
    return new ChatResponse(
        body.path("id").asText("resp_tollgate"),
        body.path("model").asText(),
        parts,
        finish(body, calls),
        readUsage(body.get("usage")));
  }

  private static FinishReason finish(JsonNode response, boolean calls) {
    String status = response.path("status").asText();
    if ("incomplete".equals(status)) {
      return "content_filter".equals(response.at("/incomplete_details/reason").asText())
          ? FinishReason.CONTENT_FILTER
          : FinishReason.LENGTH;
    }
    if (!"completed".equals(status)) {
      return FinishReason.OTHER;
    }
    return calls ? FinishReason.TOOL_CALLS : FinishReason.STOP;
  }

  /** Usage as Responses reports it: cached tokens are inside {@code input_tokens}. */
  public static Usage readUsage(JsonNode u) {
    if (u == null || !u.isObject()) {
      return null;
    }
    long input = Math.max(0, Json.count(u, "input_tokens"));
    long cached = Math.max(0, Json.count(u.path("input_tokens_details"), "cached_tokens"));
    return new Usage(
        Math.max(0, input - cached), Math.max(0, Json.count(u, "output_tokens")), cached, 0);
  }

  // ---- streams ----

  /** Stream events whose decoding yields nothing (see {@link Decoder#onMeteredEvent}). */
  private static final List<String> METERING_SKIPS =
      List.of(
          "response.in_progress\"",
          "response.content_part.added\"",
          "response.content_part.done\"",
          "response.output_text.done\"",
          "response.output_item.done\"",
          "response.function_call_arguments.delta\"",
          "response.function_call_arguments.done\"");

  /** Reads OpenAI's Responses stream (relayed as sent) for metering and the response cache. */
  public static final class Decoder implements StreamDecoder {
    private static final StreamScan.Key DELTA = StreamScan.key("delta");
    private final Map<String, Integer> toolIndex = new HashMap<>();
    private boolean calls;
    private boolean ended;

    @Override
    public List<StreamEvent> onEvent(String event, String data) {
      JsonNode e = Json.parseOrNull(data);
      if (e == null) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider sent a stream event that is not JSON");
      }
      String type = e.path("type").asText(event == null ? "" : event);
      List<StreamEvent> out = new ArrayList<>(3);
      switch (type) {
        case "response.created" ->
            out.add(
                new StreamEvent.Start(
                    e.at("/response/id").asText(null), e.at("/response/model").asText(null)));
        case "response.output_text.delta" ->
            out.add(new StreamEvent.TextDelta(e.path("delta").asText()));
        case "response.output_item.added" -> {
          JsonNode item = e.path("item");
          if ("function_call".equals(item.path("type").asText())) {
            calls = true;
            int index = toolIndex.size();
            toolIndex.put(item.path("id").asText(), index);
            out.add(
                new StreamEvent.ToolCallStart(
                    index, Json.text(item, "call_id"), Json.text(item, "name")));
          }
        }
        case "response.function_call_arguments.delta" -> {
          Integer index = toolIndex.get(e.path("item_id").asText());
          if (index != null) {
            out.add(new StreamEvent.ToolArgsDelta(index, e.path("delta").asText()));
          }
        }
        case "response.completed", "response.incomplete", "response.failed" -> {
          JsonNode r = e.path("response");
          Usage u = readUsage(r.get("usage"));
          if (u != null) {
            out.add(
                new StreamEvent.UsageUpdate(
                    u.inputTokens(), u.outputTokens(), u.cacheReadTokens(), 0));
          }
          out.add(new StreamEvent.Finish(finish(r, calls)));
          out.add(new StreamEvent.End());
          ended = true;
        }
        case "error" ->
            throw new ProxyException(
                ErrorKind.UPSTREAM_ERROR,
                "the provider ended the stream with an error: " + e.path("message").asText());
        default -> {
          // item and part boundaries, reasoning, built-in tool progress: relayed as sent
        }
      }
      return out;
    }

    /**
     * Text deltas (counted unparsed) and the events that only mark progress or repeat what was
     * streamed ({@code response.in_progress}, part and text ends, item ends, argument deltas) are
     * recognised by their leading {@code type}, as OpenAI writes it; the events that start, end or
     * add a tool call, and anything else, are decoded.
     */
    @Override
    public List<StreamEvent> onMeteredEvent(String event, String data) {
      if (data.startsWith("{\"type\":\"response.") && StreamScan.isObject(data)) {
        int type = "{\"type\":\"".length();
        if (data.startsWith("response.output_text.delta\"", type)) {
          int chars = StreamScan.textLength(data, DELTA);
          if (chars >= 0) {
            return StreamEvent.Delivered.of(chars);
          }
        } else {
          for (String skipped : METERING_SKIPS) {
            if (data.startsWith(skipped, type)) {
              return List.of();
            }
          }
        }
      }
      return onEvent(event, data);
    }

    @Override
    public List<StreamEvent> onEndOfBody() {
      if (!ended) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_STREAM_BROKEN,
            "the provider's stream ended before response.completed");
      }
      return List.of();
    }
  }

  /**
   * Writes neutral events as a Responses stream (a translated call): {@code response.created}, one
   * message item for the text and one function-call item per tool call, each opened and closed with
   * its item, part and text events, then {@code response.completed} (or {@code
   * response.incomplete}) with the whole response and its usage.
   */
  public static final class Encoder implements StreamEncoder {
    private final long createdAt = System.currentTimeMillis() / 1000;
    private final UsageAccumulator usage = new UsageAccumulator();
    private final List<ObjectNode> done = new ArrayList<>();
    private int sequence;
    private String id = "resp_tollgate";
    private String model = "";
    private FinishReason finish = FinishReason.STOP;
    // the item open now: a message (text != null) or a function call (callId != null)
    private String itemId;
    private int outputIndex = -1;
    private StringBuilder text;
    private String callId;
    private String callName;
    private StringBuilder arguments;
    private int calls;

    @Override
    public String encode(StreamEvent event) {
      StringBuilder sb = new StringBuilder();
      if (event instanceof StreamEvent.Start s) {
        id = responseId(s.id());
        model = s.model() == null ? model : s.model();
        ObjectNode r = skeleton(id, model, createdAt);
        sb.append(sse("response.created", Json.object().set("response", r)));
        sb.append(sse("response.in_progress", Json.object().set("response", r.deepCopy())));
      } else if (event instanceof StreamEvent.TextDelta t) {
        if (text == null) {
          close(sb);
          openMessage(sb);
        }
        text.append(t.text());
        ObjectNode d = item().put("content_index", 0).put("delta", t.text());
        d.putArray("logprobs");
        sb.append(sse("response.output_text.delta", d));
      } else if (event instanceof StreamEvent.ToolCallStart c) {
        close(sb);
        outputIndex++;
        itemId = "fc_" + suffix(id) + "_" + calls++;
        callId = c.id();
        callName = c.name();
        arguments = new StringBuilder();
        ObjectNode added = Json.object().put("output_index", outputIndex);
        added.set("item", functionCallItem(itemId, callId, callName, "", "in_progress"));
        sb.append(sse("response.output_item.added", added));
      } else if (event instanceof StreamEvent.ToolArgsDelta a) {
        if (arguments != null) {
          arguments.append(a.json());
          sb.append(sse("response.function_call_arguments.delta", item().put("delta", a.json())));
        }
      } else if (event instanceof StreamEvent.Finish f) {
        finish = f.reason();
      } else if (event instanceof StreamEvent.UsageUpdate u) {
        usage.add(u);
      } else if (event instanceof StreamEvent.End) {
        close(sb);
        ChatResponse whole =
            new ChatResponse(id, model, List.of(), finish, usage.known() ? usage.usage() : null);
        ObjectNode r = renderResponse(whole);
        r.put("created_at", createdAt);
        ArrayNode output = r.putArray("output");
        done.forEach(output::add);
        String type =
            "incomplete".equals(r.path("status").asText())
                ? "response.incomplete"
                : "response.completed";
        sb.append(sse(type, Json.object().set("response", r)));
      }
      return sb.toString();
    }

    private void openMessage(StringBuilder sb) {
      outputIndex++;
      itemId = "msg_" + suffix(id);
      text = new StringBuilder();
      ObjectNode added = Json.object().put("output_index", outputIndex);
      added.set("item", messageItem(itemId, null, "in_progress"));
      sb.append(sse("response.output_item.added", added));
      ObjectNode part = item().put("content_index", 0);
      part.set("part", outputText(""));
      sb.append(sse("response.content_part.added", part));
    }

    /** Closes the item open now, if any. */
    private void close(StringBuilder sb) {
      if (text != null) {
        String t = text.toString();
        ObjectNode textDone = item().put("content_index", 0).put("text", t);
        textDone.putArray("logprobs");
        sb.append(sse("response.output_text.done", textDone));
        ObjectNode partDone = item().put("content_index", 0);
        partDone.set("part", outputText(t));
        sb.append(sse("response.content_part.done", partDone));
        ObjectNode m = messageItem(itemId, t, "completed");
        sb.append(sse("response.output_item.done", itemDone(m)));
        done.add(m);
        text = null;
      } else if (arguments != null) {
        String args = arguments.toString();
        sb.append(
            sse(
                "response.function_call_arguments.done",
                item().put("name", callName).put("arguments", args)));
        ObjectNode f = functionCallItem(itemId, callId, callName, args, "completed");
        sb.append(sse("response.output_item.done", itemDone(f)));
        done.add(f);
        arguments = null;
      }
    }

    private ObjectNode item() {
      return Json.object().put("item_id", itemId).put("output_index", outputIndex);
    }

    private ObjectNode itemDone(ObjectNode item) {
      ObjectNode o = Json.object().put("output_index", outputIndex);
      o.set("item", item);
      return o;
    }

    private String sse(String type, ObjectNode data) {
      ObjectNode o = Json.object().put("type", type);
      o.setAll(data);
      o.put("sequence_number", sequence++);
      return "event: " + type + "\ndata: " + Json.write(o) + "\n\n";
    }

    @Override
    public String error(ErrorKind kind, String message) {
      ObjectNode o = Json.object().put("type", "error").put("code", kind.label());
      o.put("message", message).putNull("param").put("sequence_number", sequence++);
      return "event: error\ndata: " + Json.write(o) + "\n\n";
    }
  }

  private static ProxyException invalid(String message) {
    return new ProxyException(ErrorKind.INVALID_REQUEST, message);
  }
}
