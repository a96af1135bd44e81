package dev.tollgate.sidecar.provider.openai;

import static dev.tollgate.sidecar.chat.Capabilities.Feature.DOCUMENT;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.IMAGE;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.IMAGE_URL;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.LOGPROBS;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.RESPONSE_FORMAT;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.Capabilities;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatRequest.Media;
import dev.tollgate.sidecar.chat.ChatRequest.Message;
import dev.tollgate.sidecar.chat.ChatRequest.Part;
import dev.tollgate.sidecar.chat.ChatRequest.Role;
import dev.tollgate.sidecar.chat.ChatRequest.Text;
import dev.tollgate.sidecar.chat.ChatRequest.ToolCall;
import dev.tollgate.sidecar.chat.ChatRequest.ToolChoice;
import dev.tollgate.sidecar.chat.ChatRequest.ToolResult;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.MediaSource;
import dev.tollgate.sidecar.chat.Reasoning;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.TokenLogprob;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.FieldCheck;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import dev.tollgate.sidecar.wire.StreamEncoder;
import dev.tollgate.sidecar.wire.StreamScan;
import dev.tollgate.sidecar.wire.UsageAccumulator;
import java.util.ArrayList;
import java.util.List;

/** OpenAI's chat-completions wire format, as a caller format and as a provider format. */
public final class OpenAiWire {
  private OpenAiWire() {}

  // ---- caller side ----

  /** OpenAI's error body: {@code {"error": {"message", "type", "param", "code"}}}. */
  public static ObjectNode errorBody(ErrorKind kind, String message) {
    ObjectNode root = Json.object();
    ObjectNode e = root.putObject("error");
    e.put("message", message).put("type", kind.openAiType());
    e.putNull("param");
    e.put("code", kind.label());
    return root;
  }

  private static final FieldCheck F = FieldCheck.OPENAI;

  /** OpenAI takes images inline and by URL, PDFs only inline ({@code file.file_data}). */
  public static final Capabilities CAPABILITIES =
      Capabilities.of(IMAGE, IMAGE_URL, DOCUMENT, RESPONSE_FORMAT, LOGPROBS);

  /** OpenAI's maximum of stop sequences. */
  static final int MAX_STOP = 4;

  private static final java.util.regex.Pattern TOOL_NAME =
      java.util.regex.Pattern.compile("[a-zA-Z0-9_-]{1,64}");

  /**
   * Reads a caller's request into neutral form (only needed when another provider serves it),
   * checking it as OpenAI does: what OpenAI would refuse with a 400 is refused here in its words
   * ({@link FieldCheck}), before any translated call.
   */
  public static ChatRequest parseRequest(JsonNode body) {
    // options whose meaning another provider cannot honour are refused, not silently dropped
    Integer n = F.optionalInt(body, "n", "n", 1, 128);
    if (n != null && n > 1) {
      throw F.unsupported(
          "n", "n > 1 cannot be translated to this route's provider; ask once per answer");
    }
    ChatRequest.ResponseFormat responseFormat = responseFormat(body.get("response_format"));
    JsonNode messages = body.get("messages");
    if (messages == null || messages.isNull()) {
      throw F.missing("messages");
    }
    if (!messages.isArray()) {
      throw F.type("messages", "an array", messages);
    }
    if (messages.isEmpty()) {
      throw F.length(
          "messages",
          "empty array. Expected an array with minimum length 1, but got an empty array instead.");
    }
    StringBuilder system = new StringBuilder();
    List<Message> out = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = F.requireObject(messages.get(i), F.path("messages", i));
      String role = F.requiredString(m, "role", F.path("messages", i, "role"));
      F.oneOf(
          role,
          F.path("messages", i, "role"),
          List.of("system", "assistant", "user", "function", "tool", "developer"));
      switch (role) {
        case "system", "developer" -> {
          if (!system.isEmpty()) {
            system.append("\n\n");
          }
          system.append(contentText(required(m, i), i));
        }
        case "user" -> out.add(new Message(Role.USER, userParts(required(m, i), i)));
        case "assistant" -> {
          List<Part> parts = new ArrayList<>();
          JsonNode content = m.get("content");
          JsonNode calls = F.optionalArray(m, "tool_calls", F.path("messages", i, "tool_calls"));
          if ((content == null || content.isNull()) && calls.isEmpty()) {
            throw F.missing(F.path("messages", i, "content"));
          }
          if (content != null && !content.isNull()) {
            String t = contentText(content, i);
            if (!t.isEmpty()) {
              parts.add(new Text(t));
            }
          }
          for (int k = 0; k < calls.size(); k++) {
            JsonNode c = F.requireObject(calls.get(k), F.path("messages", i, "tool_calls", k));
            String id = F.requiredString(c, "id", F.path("messages", i, "tool_calls", k, "id"));
            JsonNode f =
                F.requireObject(
                    c.get("function"), F.path("messages", i, "tool_calls", k, "function"));
            String name =
                F.requiredString(
                    f, "name", F.path("messages", i, "tool_calls", k, "function", "name"));
            String args =
                F.requiredString(
                    f,
                    "arguments",
                    F.path("messages", i, "tool_calls", k, "function", "arguments"));
            parts.add(new ToolCall(id, name, args));
          }
          out.add(new Message(Role.ASSISTANT, parts));
        }
        case "tool" -> {
          String id = F.requiredString(m, "tool_call_id", F.path("messages", i, "tool_call_id"));
          out.add(
              new Message(
                  Role.TOOL, List.of(new ToolResult(id, contentText(required(m, i), i), false))));
        }
        default ->
            throw F.unsupported(
                F.path("messages", i, "role"),
                "messages["
                    + i
                    + "].role '"
                    + role
                    + "' cannot be translated to this route's"
                    + " provider; use tool messages");
      }
    }
    Integer maxTokens =
        F.optionalInt(body, "max_completion_tokens", "max_completion_tokens", 1, Integer.MAX_VALUE);
    Integer legacyMax = F.optionalInt(body, "max_tokens", "max_tokens", 1, Integer.MAX_VALUE);
    if (maxTokens == null) {
      maxTokens = legacyMax;
    }
    List<String> stop = new ArrayList<>();
    JsonNode s = body.get("stop");
    if (s != null && s.isTextual()) {
      stop.add(s.asText());
    } else if (s != null && s.isArray()) {
      if (s.size() > MAX_STOP) {
        throw F.length(
            "stop",
            "array too long. Expected an array with maximum length "
                + MAX_STOP
                + ", but got an array with length "
                + s.size()
                + " instead.");
      }
      for (int k = 0; k < s.size(); k++) {
        if (!s.get(k).isTextual()) {
          throw F.type(F.path("stop", k), "a string", s.get(k));
        }
        stop.add(s.get(k).asText());
      }
    } else if (s != null && !s.isNull()) {
      throw F.type("stop", "a string or an array of strings", s);
    }
    List<ChatRequest.Tool> tools = new ArrayList<>();
    JsonNode t = F.optionalArray(body, "tools", "tools");
    for (int k = 0; k < t.size(); k++) {
      JsonNode tool = F.requireObject(t.get(k), F.path("tools", k));
      String type = F.requiredString(tool, "type", F.path("tools", k, "type"));
      if (!"function".equals(type)) {
        throw F.unsupported(
            F.path("tools", k, "type"),
            "tools of type '" + type + "' cannot be translated to this route's provider");
      }
      JsonNode f = F.requireObject(tool.get("function"), F.path("tools", k, "function"));
      String name = F.requiredString(f, "name", F.path("tools", k, "function", "name"));
      if (!TOOL_NAME.matcher(name).matches()) {
        throw F.value(
            F.path("tools", k, "function", "name"),
            "string does not match pattern. Expected a string that matches the pattern"
                + " '^[a-zA-Z0-9_-]{1,64}$'.");
      }
      JsonNode params = f.get("parameters");
      if (params != null && !params.isNull() && !params.isObject()) {
        throw F.type(F.path("tools", k, "function", "parameters"), "an object", params);
      }
      tools.add(
          new ChatRequest.Tool(
              name,
              F.optionalString(f, "description", F.path("tools", k, "function", "description")),
              params));
    }
    return ChatRequest.builder(Json.text(body, "model"), out)
        .system(system.isEmpty() ? null : system.toString())
        .maxTokens(maxTokens)
        .temperature(F.optionalNumber(body, "temperature", "temperature", 0, 2))
        .topP(F.optionalNumber(body, "top_p", "top_p", 0, 1))
        .stop(stop)
        .tools(tools)
        .toolChoice(toolChoice(body.get("tool_choice"), tools))
        .stream(F.optionalBoolean(body, "stream", "stream"))
        .responseFormat(responseFormat)
        .seed(F.optionalLong(body, "seed", "seed", Long.MIN_VALUE, Long.MAX_VALUE))
        .parallelToolCalls(parallelToolCalls(body))
        .reasoningEffort(reasoningEffort(body))
        .topLogprobs(topLogprobs(body))
        .build();
  }

  private static String reasoningEffort(JsonNode body) {
    String effort = F.optionalString(body, "reasoning_effort", "reasoning_effort");
    return effort == null ? null : F.oneOf(effort, "reasoning_effort", Reasoning.EFFORTS);
  }

  /**
   * {@code logprobs} / {@code top_logprobs}: how many alternatives per token (0 when only the
   * chosen tokens'), or null when none are wanted.
   */
  private static Integer topLogprobs(JsonNode body) {
    boolean wanted = F.optionalBoolean(body, "logprobs", "logprobs");
    Integer top = F.optionalInt(body, "top_logprobs", "top_logprobs", 0, 20);
    if (top != null && !wanted) {
      throw F.value("top_logprobs", "logprobs must be set to true if top_logprobs is used");
    }
    return wanted ? (top == null ? 0 : top) : null;
  }

  private static Boolean parallelToolCalls(JsonNode body) {
    JsonNode v = body.get("parallel_tool_calls");
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isBoolean()) {
      throw F.type("parallel_tool_calls", "a boolean", v);
    }
    return v.asBoolean();
  }

  /** {@code response_format}: text (null), {@code json_object}, or {@code json_schema}. */
  private static ChatRequest.ResponseFormat responseFormat(JsonNode rf) {
    if (rf == null || rf.isNull()) {
      return null;
    }
    F.requireObject(rf, "response_format");
    String type = F.requiredString(rf, "type", "response_format.type");
    switch (F.oneOf(type, "response_format.type", List.of("text", "json_object", "json_schema"))) {
      case "text" -> {
        return null;
      }
      case "json_object" -> {
        return ChatRequest.ResponseFormat.JSON_OBJECT;
      }
      default -> {
        JsonNode js = F.requireObject(rf.get("json_schema"), "response_format.json_schema");
        String name = F.requiredString(js, "name", "response_format.json_schema.name");
        if (!TOOL_NAME.matcher(name).matches()) {
          throw F.value(
              "response_format.json_schema.name",
              "string does not match pattern. Expected a string that matches the pattern"
                  + " '^[a-zA-Z0-9_-]{1,64}$'.");
        }
        JsonNode schema = js.get("schema");
        if (schema != null && !schema.isNull() && !schema.isObject()) {
          throw F.type("response_format.json_schema.schema", "an object", schema);
        }
        JsonNode strict = js.get("strict");
        return new ChatRequest.ResponseFormat(
            name,
            schema == null || schema.isNull() ? Json.object().put("type", "object") : schema,
            strict != null && strict.asBoolean(false));
      }
    }
  }

  private static JsonNode required(JsonNode m, int i) {
    JsonNode c = m.get("content");
    if (c == null || c.isNull()) {
      throw F.missing(F.path("messages", i, "content"));
    }
    return c;
  }

  private static ToolChoice toolChoice(JsonNode tc, List<ChatRequest.Tool> tools) {
    if (tc == null || tc.isNull()) {
      return null;
    }
    ToolChoice choice;
    if (tc.isTextual()) {
      choice =
          switch (F.oneOf(tc.asText(), "tool_choice", List.of("none", "auto", "required"))) {
            case "none" -> new ToolChoice(ToolChoice.Mode.NONE, null);
            case "required" -> new ToolChoice(ToolChoice.Mode.ANY, null);
            default -> new ToolChoice(ToolChoice.Mode.AUTO, null);
          };
    } else if (tc.isObject()) {
      String type = F.requiredString(tc, "type", "tool_choice.type");
      F.oneOf(type, "tool_choice.type", List.of("function"));
      JsonNode f = F.requireObject(tc.get("function"), "tool_choice.function");
      String name = F.requiredString(f, "name", "tool_choice.function.name");
      choice = new ToolChoice(ToolChoice.Mode.NAMED, name);
    } else {
      throw F.type("tool_choice", "a string or an object", tc);
    }
    if (choice.mode() != ToolChoice.Mode.NONE && tools.isEmpty()) {
      throw F.value("tool_choice", "'tool_choice' is only allowed when 'tools' are specified.");
    }
    if (choice.mode() == ToolChoice.Mode.NAMED
        && tools.stream().noneMatch(x -> x.name().equals(choice.name()))) {
      throw F.value(
          "tool_choice",
          "no function named '" + choice.name() + "' was specified in the 'tools' parameter.");
    }
    return choice;
  }

  /** A user message's content: text, images ({@code image_url}) and files ({@code file}). */
  private static List<Part> userParts(JsonNode content, int i) {
    if (!content.isArray()) {
      return List.of(new Text(contentText(content, i)));
    }
    List<Part> parts = new ArrayList<>();
    for (int k = 0; k < content.size(); k++) {
      String at = F.path("messages", i, "content", k);
      JsonNode part = F.requireObject(content.get(k), at);
      String type = F.requiredString(part, "type", at + ".type");
      switch (type) {
        case "text" -> parts.add(new Text(F.requiredString(part, "text", at + ".text")));
        case "image_url" -> {
          JsonNode img = F.requireObject(part.get("image_url"), at + ".image_url");
          String url = F.requiredString(img, "url", at + ".image_url.url");
          parts.add(MediaSource.image(url, F, at + ".image_url.url"));
        }
        case "file" -> {
          JsonNode file = F.requireObject(part.get("file"), at + ".file");
          String data = F.optionalString(file, "file_data", at + ".file.file_data");
          if (data == null) {
            if (F.optionalString(file, "file_id", at + ".file.file_id") != null) {
              throw F.unsupported(
                  at + ".file.file_id",
                  "a file_id names a file uploaded to OpenAI, which this route's provider cannot"
                      + " read; send the file as file_data");
            }
            throw F.missing(at + ".file.file_data");
          }
          parts.add(
              MediaSource.document(
                  data,
                  F.optionalString(file, "filename", at + ".file.filename"),
                  F,
                  at + ".file.file_data"));
        }
        default ->
            throw F.unsupported(
                at,
                "messages["
                    + i
                    + "] has content of type '"
                    + type
                    + "', which cannot be translated to this route's provider");
      }
    }
    return parts;
  }

  private static String contentText(JsonNode content, int i) {
    if (content.isTextual()) {
      return content.asText();
    }
    if (content.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (int k = 0; k < content.size(); k++) {
        JsonNode part = F.requireObject(content.get(k), F.path("messages", i, "content", k));
        String type = F.requiredString(part, "type", F.path("messages", i, "content", k, "type"));
        if ("text".equals(type)) {
          sb.append(F.requiredString(part, "text", F.path("messages", i, "content", k, "text")));
        } else {
          throw F.unsupported(
              F.path("messages", i, "content", k),
              "messages["
                  + i
                  + "] has content of type '"
                  + type
                  + "', which cannot be translated here; only text is");
        }
      }
      return sb.toString();
    }
    throw F.type(
        F.path("messages", i, "content"), "a string or an array of content parts", content);
  }

  /** Renders a neutral answer as an OpenAI chat completion. */
  public static ObjectNode renderResponse(ChatResponse r) {
    ObjectNode root = Json.object();
    root.put("id", r.id())
        .put("object", "chat.completion")
        .put("created", System.currentTimeMillis() / 1000);
    root.put("model", r.model());
    ObjectNode choice = root.putArray("choices").addObject().put("index", 0);
    ObjectNode msg = choice.putObject("message").put("role", "assistant");
    String text = r.text();
    List<ToolCall> calls =
        r.content().stream().filter(ToolCall.class::isInstance).map(ToolCall.class::cast).toList();
    if (text.isEmpty() && !calls.isEmpty()) {
      msg.putNull("content");
    } else {
      msg.put("content", text);
    }
    if (!calls.isEmpty()) {
      ArrayNode arr = msg.putArray("tool_calls");
      for (ToolCall c : calls) {
        ObjectNode o = arr.addObject().put("id", c.id()).put("type", "function");
        o.putObject("function").put("name", c.name()).put("arguments", c.argumentsJson());
      }
    }
    if (r.logprobs() == null) {
      choice.putNull("logprobs");
    } else {
      choice.set("logprobs", logprobs(r.logprobs()));
    }
    choice.put("finish_reason", r.finish().openAi());
    if (r.usage() != null) {
      root.set("usage", usage(r.usage()));
    }
    return root;
  }

  /** {@code {"content": [{token, logprob, bytes, top_logprobs}], "refusal": null}}. */
  static ObjectNode logprobs(List<TokenLogprob> tokens) {
    ObjectNode o = Json.object();
    ArrayNode content = o.putArray("content");
    for (TokenLogprob t : tokens) {
      ObjectNode c = token(content.addObject(), t);
      ArrayNode top = c.putArray("top_logprobs");
      t.top().forEach(alt -> token(top.addObject(), alt));
    }
    o.putNull("refusal");
    return o;
  }

  private static ObjectNode token(ObjectNode o, TokenLogprob t) {
    o.put("token", t.token()).put("logprob", t.logprob());
    ArrayNode bytes = o.putArray("bytes");
    for (byte b : t.token().getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      bytes.add(b & 0xff);
    }
    return o;
  }

  /** OpenAI's {@code logprobs.content}, or null when absent. */
  static List<TokenLogprob> readLogprobs(JsonNode logprobs) {
    JsonNode content = logprobs == null ? null : logprobs.get("content");
    if (content == null || !content.isArray()) {
      return null;
    }
    List<TokenLogprob> out = new ArrayList<>(content.size());
    for (JsonNode c : content) {
      List<TokenLogprob> top = new ArrayList<>();
      for (JsonNode alt : c.path("top_logprobs")) {
        top.add(new TokenLogprob(alt.path("token").asText(), alt.path("logprob").asDouble(), null));
      }
      out.add(new TokenLogprob(c.path("token").asText(), c.path("logprob").asDouble(), top));
    }
    return out;
  }

  static ObjectNode usage(Usage u) {
    ObjectNode o = Json.object();
    o.put("prompt_tokens", u.promptTokens());
    o.put("completion_tokens", u.outputTokens());
    o.put("total_tokens", u.promptTokens() + u.outputTokens());
    o.putObject("prompt_tokens_details").put("cached_tokens", u.cacheReadTokens());
    return o;
  }

  // ---- provider side ----

  /** A neutral request as an OpenAI-compatible provider request for {@code model}. */
  public static ObjectNode encodeRequest(ChatRequest r, String model) {
    ObjectNode root = Json.object();
    root.put("model", model);
    ArrayNode msgs = root.putArray("messages");
    if (r.system() != null) {
      msgs.addObject().put("role", "system").put("content", r.system());
    }
    for (Message m : r.messages()) {
      switch (m.role()) {
        case USER -> {
          ObjectNode o = msgs.addObject().put("role", "user");
          if (m.parts().stream().anyMatch(Media.class::isInstance)) {
            ArrayNode content = o.putArray("content");
            for (Part p : m.parts()) {
              if (p instanceof Text t) {
                content.addObject().put("type", "text").put("text", t.text());
              } else if (p instanceof Media md) {
                encodeMedia(content, md);
              }
            }
          } else {
            o.put("content", texts(m));
          }
        }
        case ASSISTANT -> {
          ObjectNode o = msgs.addObject().put("role", "assistant");
          String t = texts(m);
          if (t.isEmpty()) {
            o.putNull("content");
          } else {
            o.put("content", t);
          }
          ArrayNode calls = null;
          for (Part p : m.parts()) {
            if (p instanceof ToolCall c) {
              if (calls == null) {
                calls = o.putArray("tool_calls");
              }
              ObjectNode co = calls.addObject().put("id", c.id()).put("type", "function");
              co.putObject("function").put("name", c.name()).put("arguments", c.argumentsJson());
            }
          }
        }
        case TOOL -> {
          for (Part p : m.parts()) {
            if (p instanceof ToolResult tr) {
              if (!tr.media().isEmpty()) {
                throw Capabilities.refused(
                    "tool_result_media", "OpenAI's tool messages take only text");
              }
              msgs.addObject()
                  .put("role", "tool")
                  .put("tool_call_id", tr.toolCallId())
                  .put("content", tr.content());
            } else if (p instanceof Text t) {
              msgs.addObject().put("role", "user").put("content", t.text());
            }
          }
        }
      }
    }
    boolean reasoning = Reasoning.openAiReasoningModel(model);
    if (r.maxTokens() != null) {
      // reasoning models refuse max_tokens: their cap counts reasoning tokens too
      root.put(reasoning ? "max_completion_tokens" : "max_tokens", r.maxTokens());
    }
    String effort = reasoning ? Reasoning.openAiEffort(r) : null;
    if (effort != null) {
      root.put("reasoning_effort", effort);
    }
    if (r.topLogprobs() != null) {
      root.put("logprobs", true);
      if (r.topLogprobs() > 0) {
        root.put("top_logprobs", r.topLogprobs());
      }
    }
    if (r.temperature() != null) {
      root.put("temperature", r.temperature());
    }
    if (r.topP() != null) {
      root.put("top_p", r.topP());
    }
    if (!r.stop().isEmpty()) {
      ArrayNode s = root.putArray("stop");
      r.stop().forEach(s::add);
    }
    if (!r.tools().isEmpty()) {
      ArrayNode tools = root.putArray("tools");
      for (ChatRequest.Tool t : r.tools()) {
        ObjectNode f = tools.addObject().put("type", "function").putObject("function");
        f.put("name", t.name());
        if (t.description() != null) {
          f.put("description", t.description());
        }
        f.set(
            "parameters",
            t.parameters() != null ? t.parameters() : Json.object().put("type", "object"));
      }
    }
    if (r.toolChoice() != null) {
      switch (r.toolChoice().mode()) {
        case AUTO -> root.put("tool_choice", "auto");
        case NONE -> root.put("tool_choice", "none");
        case ANY -> root.put("tool_choice", "required");
        case NAMED ->
            root.putObject("tool_choice")
                .put("type", "function")
                .putObject("function")
                .put("name", r.toolChoice().name());
      }
    }
    if (r.responseFormat() != null) {
      ChatRequest.ResponseFormat f = r.responseFormat();
      ObjectNode rf = root.putObject("response_format");
      if (f.hasSchema()) {
        rf.put("type", "json_schema");
        ObjectNode js = rf.putObject("json_schema");
        js.put("name", f.name() != null ? f.name() : "response");
        js.set("schema", f.schema());
        if (f.strict()) {
          js.put("strict", true);
        }
      } else {
        rf.put("type", "json_object");
      }
    }
    if (r.seed() != null) {
      root.put("seed", r.seed());
    }
    if (r.parallelToolCalls() != null && !r.tools().isEmpty()) {
      root.put("parallel_tool_calls", r.parallelToolCalls());
    }
    if (r.stream()) {
      root.put("stream", true);
      root.putObject("stream_options").put("include_usage", true);
    }
    return root;
  }

  /**
   * An image as {@code image_url} (by URL or as a data URL), a PDF as a {@code file} with its data:
   * OpenAI takes documents only inline.
   */
  private static void encodeMedia(ArrayNode content, Media md) {
    if (md.kind() == Media.Kind.IMAGE) {
      content
          .addObject()
          .put("type", "image_url")
          .putObject("image_url")
          .put("url", md.byUrl() ? md.url() : md.dataUrl());
    } else {
      if (md.byUrl()) {
        throw Capabilities.refused(md.feature(), "OpenAI takes documents only as file data");
      }
      content
          .addObject()
          .put("type", "file")
          .putObject("file")
          .put("filename", md.name() != null ? md.name() : "document.pdf")
          .put("file_data", md.dataUrl());
    }
  }

  private static String texts(Message m) {
    StringBuilder sb = new StringBuilder();
    for (Part p : m.parts()) {
      if (p instanceof Text t) {
        sb.append(t.text());
      }
    }
    return sb.toString();
  }

  /** Reads a provider's non-streamed answer; usage is null when the provider left it out. */
  public static ChatResponse decodeResponse(JsonNode body) {
    JsonNode choice = body.path("choices").path(0);
    if (!body.isObject() || choice.isMissingNode()) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider's answer has no choices");
    }
    List<Part> parts = new ArrayList<>();
    JsonNode msg = choice.path("message");
    String content = Json.text(msg, "content");
    if (content != null && !content.isEmpty()) {
      parts.add(new Text(content));
    }
    for (JsonNode c : msg.path("tool_calls")) {
      JsonNode f = c.path("function");
      parts.add(
          new ToolCall(Json.text(c, "id"), Json.text(f, "name"), f.path("arguments").asText("{}")));
    }
    return new ChatResponse(
        body.path("id").asText("chatcmpl-tollgate"),
        body.path("model").asText(),
        parts,
        FinishReason.fromOpenAi(Json.text(choice, "finish_reason")),
        readUsage(body.get("usage")),
        readLogprobs(choice.get("logprobs")));
  }

  public static Usage readUsage(JsonNode u) {
    if (u == null
        || !u.isObject()
        || Json.anyUnreadableCount(u, "prompt_tokens", "completion_tokens")
        || Json.anyUnreadableCount(u.path("prompt_tokens_details"), "cached_tokens")) {
      return null;
    }
    long prompt = Math.max(0, Json.count(u, "prompt_tokens"));
    long cached = Math.max(0, Json.count(u.path("prompt_tokens_details"), "cached_tokens"));
    return new Usage(
        Math.max(0, prompt - cached), Math.max(0, Json.count(u, "completion_tokens")), cached, 0);
  }

  /** Decodes an OpenAI-compatible provider's stream. */
  public static final class Decoder implements StreamDecoder {
    private static final StreamScan.Key USAGE = StreamScan.key("usage");
    private static final StreamScan.Key FINISH_REASON = StreamScan.key("finish_reason");
    private static final StreamScan.Key ERROR = StreamScan.key("error");
    private static final StreamScan.Key TOOL_CALLS = StreamScan.key("tool_calls");
    private static final StreamScan.Key CONTENT = StreamScan.key("content");
    private boolean started;
    private boolean ended;

    @Override
    public List<StreamEvent> onEvent(String event, String data) {
      List<StreamEvent> out = new ArrayList<>(2);
      if ("[DONE]".equals(data.trim())) {
        ended = true;
        out.add(new StreamEvent.End());
        return out;
      }
      JsonNode chunk = Json.parseOrNull(data);
      if (chunk == null || !chunk.isObject()) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider streamed data that is not JSON");
      }
      if (chunk.has("error")) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_ERROR,
            "the provider reported an error mid-stream: "
                + chunk.path("error").path("message").asText());
      }
      if (!started) {
        started = true;
        out.add(
            new StreamEvent.Start(
                chunk.path("id").asText("chatcmpl-tollgate"), chunk.path("model").asText()));
      }
      JsonNode choice = chunk.path("choices").path(0);
      if (!choice.isMissingNode()) {
        JsonNode delta = choice.path("delta");
        List<TokenLogprob> logprobs = readLogprobs(choice.get("logprobs"));
        if (logprobs != null && !logprobs.isEmpty()) {
          out.add(new StreamEvent.Logprobs(logprobs));
        }
        String content = Json.text(delta, "content");
        if (content != null && !content.isEmpty()) {
          out.add(new StreamEvent.TextDelta(content));
        }
        for (JsonNode tc : delta.path("tool_calls")) {
          int index = tc.path("index").asInt(0);
          JsonNode f = tc.path("function");
          if (tc.hasNonNull("id") || f.hasNonNull("name")) {
            out.add(
                new StreamEvent.ToolCallStart(index, Json.text(tc, "id"), Json.text(f, "name")));
          }
          String args = Json.text(f, "arguments");
          if (args != null && !args.isEmpty()) {
            out.add(new StreamEvent.ToolArgsDelta(index, args));
          }
        }
        String finish = Json.text(choice, "finish_reason");
        if (finish != null) {
          out.add(new StreamEvent.Finish(FinishReason.fromOpenAi(finish)));
        }
      }
      Usage u = readUsage(chunk.get("usage"));
      if (u != null) {
        out.add(
            new StreamEvent.UsageUpdate(
                u.inputTokens(), u.outputTokens(), u.cacheReadTokens(), -1));
      }
      return out;
    }

    /**
     * A chunk after the first whose usage, finish reason and error are null or absent and that has
     * no tool calls carries only text for metering (its {@code delta.content}, counted unparsed).
     */
    @Override
    public List<StreamEvent> onMeteredEvent(String event, String data) {
      if (!started
          || !StreamScan.isObject(data)
          || !StreamScan.nullOrAbsent(data, USAGE)
          || !StreamScan.nullOrAbsent(data, FINISH_REASON)
          || !StreamScan.nullOrAbsent(data, ERROR)
          || !StreamScan.nullOrAbsent(data, TOOL_CALLS)) {
        return onEvent(event, data);
      }
      int chars = StreamScan.textLength(data, CONTENT);
      if (chars < 0) {
        return onEvent(event, data);
      }
      return StreamEvent.Delivered.of(chars);
    }

    @Override
    public List<StreamEvent> onEndOfBody() {
      if (!ended) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_STREAM_BROKEN, "the provider's stream ended without [DONE]");
      }
      return List.of();
    }
  }

  /** True when a streamed chunk only carries usage (the chunk {@code include_usage} adds). */
  public static boolean isUsageOnlyChunk(JsonNode chunk) {
    return chunk != null && chunk.hasNonNull("usage") && chunk.path("choices").isEmpty();
  }

  /** Writes neutral events as OpenAI chat-completion chunks. */
  public static final class Encoder implements StreamEncoder {
    private final boolean includeUsage;
    private final long created = System.currentTimeMillis() / 1000;
    private String id = "chatcmpl-tollgate";
    private String model = "";
    private final UsageAccumulator usage = new UsageAccumulator();
    private final List<TokenLogprob> pendingLogprobs = new ArrayList<>();

    public Encoder(boolean includeUsage) {
      this.includeUsage = includeUsage;
    }

    private ObjectNode chunk() {
      ObjectNode c =
          Json.object()
              .put("id", id)
              .put("object", "chat.completion.chunk")
              .put("created", created);
      c.put("model", model);
      return c;
    }

    private static String sse(ObjectNode node) {
      return "data: " + Json.write(node) + "\n\n";
    }

    @Override
    public String encode(StreamEvent event) {
      if (event instanceof StreamEvent.Start s) {
        id = s.id() == null ? id : s.id();
        model = s.model() == null ? model : s.model();
        ObjectNode c = chunk();
        ObjectNode ch = c.putArray("choices").addObject().put("index", 0);
        ch.putObject("delta").put("role", "assistant").put("content", "");
        ch.putNull("finish_reason");
        return sse(c);
      }
      if (event instanceof StreamEvent.Logprobs l) {
        pendingLogprobs.addAll(l.tokens()); // sent with the text they belong to
        return "";
      }
      if (event instanceof StreamEvent.TextDelta t) {
        ObjectNode c = chunk();
        ObjectNode ch = c.putArray("choices").addObject().put("index", 0);
        ch.putObject("delta").put("content", t.text());
        if (!pendingLogprobs.isEmpty()) {
          ch.set("logprobs", logprobs(pendingLogprobs));
          pendingLogprobs.clear();
        }
        ch.putNull("finish_reason");
        return sse(c);
      }
      if (event instanceof StreamEvent.ToolCallStart t) {
        ObjectNode c = chunk();
        ObjectNode tc =
            c.putArray("choices")
                .addObject()
                .put("index", 0)
                .putObject("delta")
                .putArray("tool_calls")
                .addObject();
        tc.put("index", t.index()).put("id", t.id()).put("type", "function");
        tc.putObject("function").put("name", t.name()).put("arguments", "");
        return sse(c);
      }
      if (event instanceof StreamEvent.ToolArgsDelta a) {
        ObjectNode c = chunk();
        ObjectNode tc =
            c.putArray("choices")
                .addObject()
                .put("index", 0)
                .putObject("delta")
                .putArray("tool_calls")
                .addObject();
        tc.put("index", a.index()).putObject("function").put("arguments", a.json());
        return sse(c);
      }
      if (event instanceof StreamEvent.Finish f) {
        ObjectNode c = chunk();
        ObjectNode ch = c.putArray("choices").addObject().put("index", 0);
        ch.putObject("delta");
        ch.put("finish_reason", f.reason().openAi());
        return sse(c);
      }
      if (event instanceof StreamEvent.UsageUpdate u) {
        usage.add(u);
        return "";
      }
      if (!(event instanceof StreamEvent.End)) {
        return ""; // thinking: chat completions have no place for it
      }
      StringBuilder sb = new StringBuilder();
      if (includeUsage && usage.known()) {
        ObjectNode c = chunk();
        c.putArray("choices");
        c.set("usage", usage(usage.usage()));
        sb.append(sse(c));
      }
      return sb.append("data: [DONE]\n\n").toString();
    }

    @Override
    public String error(ErrorKind kind, String message) {
      return "data: " + Json.write(errorBody(kind, message)) + "\n\n";
    }
  }
}
