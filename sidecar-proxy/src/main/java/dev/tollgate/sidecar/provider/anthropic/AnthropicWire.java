package dev.tollgate.sidecar.provider.anthropic;

import static dev.tollgate.sidecar.chat.Capabilities.Feature.CITATIONS;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.DOCUMENT;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.DOCUMENT_URL;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.IMAGE;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.IMAGE_URL;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.RESPONSE_FORMAT;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.TOOL_RESULT_MEDIA;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import dev.tollgate.sidecar.chat.StructuredOutput;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Anthropic's Messages wire format, as a caller format and as a provider format. */
public final class AnthropicWire {
  /** Anthropic's error body: {@code {"type": "error", "error": {"type", "message"}}}. */
  public static ObjectNode errorBody(ErrorKind kind, String message) {
    ObjectNode root = Json.object();
    root.put("type", "error");
    root.putObject("error").put("type", kind.anthropicType()).put("message", message);
    return root;
  }

  /** Anthropic requires max_tokens; used when a translated request has none. */
  public static final int DEFAULT_MAX_TOKENS = 4096;

  public static final String API_VERSION = "2023-06-01";

  /** Messages takes images and PDFs inline and by URL; it has no log probabilities. */
  public static final dev.tollgate.sidecar.chat.Capabilities CAPABILITIES =
      dev.tollgate.sidecar.chat.Capabilities.of(
          IMAGE, IMAGE_URL, DOCUMENT, DOCUMENT_URL, RESPONSE_FORMAT, TOOL_RESULT_MEDIA, CITATIONS);

  private AnthropicWire() {}

  // ---- caller side ----

  private static final FieldCheck F = FieldCheck.ANTHROPIC;

  /**
   * Reads a caller's request into neutral form (only needed when another provider serves it),
   * checking it as Anthropic does: what Anthropic would refuse with a 400 is refused here in its
   * words ({@link FieldCheck}), before any translated call.
   */
  public static ChatRequest parseRequest(JsonNode body) {
    return parseRequest(body, true);
  }

  /**
   * Reads a {@code /v1/messages/count_tokens} body: checked like a request, except that it has no
   * {@code max_tokens} (Anthropic's token counting takes none).
   */
  public static ChatRequest parseCountTokensRequest(JsonNode body) {
    return parseRequest(body, false);
  }

  private static ChatRequest parseRequest(JsonNode body, boolean requireMaxTokens) {
    Integer maxTokens = F.optionalInt(body, "max_tokens", "max_tokens", 1, Integer.MAX_VALUE);
    if (maxTokens == null && requireMaxTokens) {
      throw F.missing("max_tokens");
    }
    JsonNode messages = body.get("messages");
    if (messages == null || messages.isNull()) {
      throw F.missing("messages");
    }
    if (!messages.isArray()) {
      throw F.type("messages", "an array", messages);
    }
    if (messages.isEmpty()) {
      throw F.length("messages", "at least one message is required");
    }
    List<Message> out = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = F.requireObject(messages.get(i), F.path("messages", i));
      String role = F.requiredString(m, "role", F.path("messages", i, "role"));
      F.oneOf(role, F.path("messages", i, "role"), List.of("user", "assistant"));
      JsonNode content = m.get("content");
      if (content == null || content.isNull()) {
        throw F.missing(F.path("messages", i, "content"));
      }
      if (content.isTextual()) {
        out.add(
            new Message(
                "user".equals(role) ? Role.USER : Role.ASSISTANT,
                List.of(new Text(content.asText()))));
        continue;
      }
      if (!content.isArray()) {
        throw F.type(F.path("messages", i, "content"), "a valid string or list", content);
      }
      List<Part> texts = new ArrayList<>();
      List<Part> results = new ArrayList<>();
      for (int k = 0; k < content.size(); k++) {
        String at = F.path("messages", i, "content", k);
        JsonNode block = F.requireObject(content.get(k), at);
        String type = F.requiredString(block, "type", at + ".type");
        if ("text".equals(type)) {
          texts.add(new Text(F.requiredString(block, "text", at + ".text")));
        } else if ("thinking".equals(type) && "assistant".equals(role)) {
          texts.add(
              new ChatRequest.Thinking(
                  F.requiredString(block, "thinking", at + ".thinking"),
                  F.requiredString(block, "signature", at + ".signature"),
                  null));
        } else if ("redacted_thinking".equals(type) && "assistant".equals(role)) {
          texts.add(
              new ChatRequest.Thinking(null, null, F.requiredString(block, "data", at + ".data")));
        } else if (("image".equals(type) || "document".equals(type)) && "user".equals(role)) {
          texts.add(media(block, type, at));
        } else if ("tool_use".equals(type) && "assistant".equals(role)) {
          String id = F.requiredString(block, "id", at + ".id");
          String name = F.requiredString(block, "name", at + ".name");
          JsonNode input = block.get("input");
          if (input == null || input.isNull()) {
            throw F.missing(at + ".input");
          }
          if (!input.isObject()) {
            throw F.type(at + ".input", "an object", input);
          }
          texts.add(new ToolCall(id, name, Json.write(input)));
        } else if ("tool_result".equals(type) && "user".equals(role)) {
          String id = F.requiredString(block, "tool_use_id", at + ".tool_use_id");
          JsonNode isError = block.get("is_error");
          if (isError != null && !isError.isNull() && !isError.isBoolean()) {
            throw F.type(at + ".is_error", "a boolean", isError);
          }
          List<Media> media = new ArrayList<>();
          results.add(
              new ToolResult(
                  id,
                  blockText(block.get("content"), at + ".content", media),
                  isError != null && isError.asBoolean(),
                  media));
        } else if ("tool_use".equals(type) || "tool_result".equals(type)) {
          throw F.value(
              at + ".type",
              "'"
                  + type
                  + "' blocks are only allowed in "
                  + ("tool_use".equals(type) ? "assistant" : "user")
                  + " messages");
        } else {
          throw F.unsupported(
              at,
              "messages["
                  + i
                  + "] has a content block of type '"
                  + type
                  + "', which cannot be translated to this route's provider");
        }
      }
      if (!results.isEmpty()) {
        out.add(new Message(Role.TOOL, results));
      }
      if (!texts.isEmpty() || results.isEmpty()) {
        out.add(new Message("user".equals(role) ? Role.USER : Role.ASSISTANT, texts));
      }
    }
    List<String> stop = new ArrayList<>();
    JsonNode st = F.optionalArray(body, "stop_sequences", "stop_sequences");
    for (int k = 0; k < st.size(); k++) {
      if (!st.get(k).isTextual()) {
        throw F.type(F.path("stop_sequences", k), "a string", st.get(k));
      }
      stop.add(st.get(k).asText());
    }
    List<ChatRequest.Tool> tools = new ArrayList<>();
    JsonNode ts = F.optionalArray(body, "tools", "tools");
    for (int k = 0; k < ts.size(); k++) {
      JsonNode t = F.requireObject(ts.get(k), F.path("tools", k));
      String type = F.optionalString(t, "type", F.path("tools", k, "type"));
      if (type != null && !"custom".equals(type)) {
        throw F.unsupported(
            F.path("tools", k, "type"),
            "the server tool '" + type + "' cannot be translated to this route's provider");
      }
      String name = F.requiredString(t, "name", F.path("tools", k, "name"));
      JsonNode schema = t.get("input_schema");
      if (schema == null || schema.isNull()) {
        throw F.missing(F.path("tools", k, "input_schema"));
      }
      if (!schema.isObject()) {
        throw F.type(F.path("tools", k, "input_schema"), "an object", schema);
      }
      tools.add(
          new ChatRequest.Tool(
              name, F.optionalString(t, "description", F.path("tools", k, "description")), schema));
    }
    ToolChoice choice = null;
    JsonNode tc = body.get("tool_choice");
    if (tc != null && !tc.isNull()) {
      F.requireObject(tc, "tool_choice");
      String type = F.requiredString(tc, "type", "tool_choice.type");
      choice =
          switch (F.oneOf(type, "tool_choice.type", List.of("auto", "any", "tool", "none"))) {
            case "any" -> new ToolChoice(ToolChoice.Mode.ANY, null);
            case "none" -> new ToolChoice(ToolChoice.Mode.NONE, null);
            case "tool" ->
                new ToolChoice(
                    ToolChoice.Mode.NAMED, F.requiredString(tc, "name", "tool_choice.name"));
            default -> new ToolChoice(ToolChoice.Mode.AUTO, null);
          };
      String named = choice.name();
      if (choice.mode() == ToolChoice.Mode.NAMED
          && tools.stream().noneMatch(x -> x.name().equals(named))) {
        throw F.value("tool_choice.name", "Tool '" + named + "' not found in the provided tools");
      }
      if ((choice.mode() == ToolChoice.Mode.ANY) && tools.isEmpty()) {
        throw F.value("tool_choice", "tool_choice may only be specified while providing tools");
      }
    }
    Boolean parallel = null;
    if (tc != null && tc.isObject()) {
      JsonNode d = tc.get("disable_parallel_tool_use");
      if (d != null && !d.isNull()) {
        if (!d.isBoolean()) {
          throw F.type("tool_choice.disable_parallel_tool_use", "a boolean", d);
        }
        parallel = !d.asBoolean();
      }
    }
    return ChatRequest.builder(Json.text(body, "model"), out)
        .system(systemText(body.get("system")))
        .maxTokens(maxTokens)
        .temperature(F.optionalNumber(body, "temperature", "temperature", 0, 1))
        .topP(F.optionalNumber(body, "top_p", "top_p", 0, 1))
        .stop(stop)
        .tools(tools)
        .toolChoice(choice)
        .stream(F.optionalBoolean(body, "stream", "stream"))
        .responseFormat(outputFormat(body.get("output_format")))
        .parallelToolCalls(parallel)
        .thinkingBudget(thinkingBudget(body.get("thinking")))
        .build();
  }

  /** {@code thinking: {type: enabled, budget_tokens}}: the budget; disabled or absent: null. */
  private static Integer thinkingBudget(JsonNode t) {
    if (t == null || t.isNull()) {
      return null;
    }
    F.requireObject(t, "thinking");
    String type = F.requiredString(t, "type", "thinking.type");
    if ("disabled".equals(F.oneOf(type, "thinking.type", List.of("enabled", "disabled")))) {
      return null;
    }
    Integer budget =
        F.optionalInt(t, "budget_tokens", "thinking.budget_tokens", 1024, Integer.MAX_VALUE);
    if (budget == null) {
      throw F.missing("thinking.budget_tokens");
    }
    return budget;
  }

  /**
   * Anthropic's native structured output ({@code output_format: {type: json_schema, schema}}, the
   * structured-outputs beta).
   */
  private static ChatRequest.ResponseFormat outputFormat(JsonNode of) {
    if (of == null || of.isNull()) {
      return null;
    }
    F.requireObject(of, "output_format");
    F.oneOf(
        F.requiredString(of, "type", "output_format.type"),
        "output_format.type",
        List.of("json_schema"));
    JsonNode schema = of.get("schema");
    if (schema == null || schema.isNull()) {
      throw F.missing("output_format.schema");
    }
    if (!schema.isObject()) {
      throw F.type("output_format.schema", "an object", schema);
    }
    return new ChatRequest.ResponseFormat("response", schema, true);
  }

  /** An image or document block: base64 or URL source (a plain-text document becomes text). */
  private static Part media(JsonNode block, String type, String at) {
    Part p = source(block, type, at);
    JsonNode c = block.get("citations");
    if (c != null && !c.isNull()) {
      F.requireObject(c, at + ".citations");
      boolean on = F.optionalBoolean(c, "enabled", at + ".citations.enabled");
      if (on && p instanceof Media md) {
        return md.withCitations();
      }
      if (on) {
        throw F.unsupported(
            at + ".citations",
            "citations on a plain-text document cannot be translated to this route's provider");
      }
    }
    return p;
  }

  private static Part source(JsonNode block, String type, String at) {
    Media.Kind kind = "image".equals(type) ? Media.Kind.IMAGE : Media.Kind.DOCUMENT;
    JsonNode source = F.requireObject(block.get("source"), at + ".source");
    String sourceType = F.requiredString(source, "type", at + ".source.type");
    String name = F.optionalString(block, "title", at + ".title");
    switch (F.oneOf(
        sourceType,
        at + ".source.type",
        kind == Media.Kind.IMAGE ? List.of("base64", "url") : List.of("base64", "url", "text"))) {
      case "base64" -> {
        return MediaSource.inline(
            kind,
            F.requiredString(source, "media_type", at + ".source.media_type"),
            F.requiredString(source, "data", at + ".source.data"),
            name,
            F,
            at + ".source");
      }
      case "url" -> {
        return MediaSource.byUrl(
            kind, F.requiredString(source, "url", at + ".source.url"), F, at + ".source.url");
      }
      default -> {
        return new Text(F.requiredString(source, "data", at + ".source.data"));
      }
    }
  }

  private static String systemText(JsonNode system) {
    if (system == null || system.isNull()) {
      return null;
    }
    if (system.isTextual()) {
      return system.asText();
    }
    if (!system.isArray()) {
      throw F.type("system", "a valid string or list", system);
    }
    StringBuilder sb = new StringBuilder();
    for (int k = 0; k < system.size(); k++) {
      JsonNode b = F.requireObject(system.get(k), F.path("system", k));
      if (!sb.isEmpty()) {
        sb.append("\n\n");
      }
      sb.append(F.requiredString(b, "text", F.path("system", k, "text")));
    }
    return sb.toString();
  }

  /**
   * A tool result's content: its text blocks as one text; its image and document blocks go to
   * {@code media} (checked as the message's own media are).
   */
  private static String blockText(JsonNode content, String at, List<Media> media) {
    if (content == null || content.isNull()) {
      return "";
    }
    if (content.isTextual()) {
      return content.asText();
    }
    if (!content.isArray()) {
      throw F.type(at, "a valid string or list", content);
    }
    StringBuilder sb = new StringBuilder();
    for (int k = 0; k < content.size(); k++) {
      String bat = at + "." + k;
      JsonNode b = F.requireObject(content.get(k), bat);
      String type = F.requiredString(b, "type", bat + ".type");
      switch (type) {
        case "text" -> sb.append(F.requiredString(b, "text", bat + ".text"));
        case "image", "document" -> {
          Part p = media(b, type, bat);
          if (p instanceof Media md) {
            media.add(md);
          } else if (p instanceof Text t) {
            sb.append(t.text()); // a plain-text document
          }
        }
        default ->
            throw F.unsupported(
                bat,
                "a tool_result has a content block of type '"
                    + type
                    + "', which cannot be translated to this route's provider");
      }
    }
    return sb.toString();
  }

  public static ObjectNode renderResponse(ChatResponse r) {
    ObjectNode root = Json.object();
    root.put("id", r.id()).put("type", "message").put("role", "assistant").put("model", r.model());
    ArrayNode content = root.putArray("content");
    for (Part p : r.content()) {
      if (p instanceof ChatRequest.Thinking th && th.redacted()) {
        content.addObject().put("type", "redacted_thinking").put("data", th.redactedData());
      } else if (p instanceof ChatRequest.Thinking th && th.signature() != null) {
        content
            .addObject()
            .put("type", "thinking")
            .put("thinking", th.text())
            .put("signature", th.signature());
      } else if (p instanceof Text t) {
        ObjectNode b = content.addObject().put("type", "text").put("text", t.text());
        if (t.citations() != null) {
          b.set("citations", t.citations());
        }
      } else if (p instanceof ToolCall c) {
        ObjectNode b =
            content.addObject().put("type", "tool_use").put("id", c.id()).put("name", c.name());
        b.set("input", toolInput(c.argumentsJson()));
      }
    }
    root.put("stop_reason", r.finish().anthropic());
    root.putNull("stop_sequence");
    root.set("usage", usage(r.usage() == null ? Usage.ZERO : r.usage()));
    return root;
  }

  static ObjectNode usage(Usage u) {
    ObjectNode o = Json.object();
    o.put("input_tokens", u.inputTokens());
    o.put("cache_creation_input_tokens", u.cacheWriteTokens());
    o.put("cache_read_input_tokens", u.cacheReadTokens());
    o.put("output_tokens", u.outputTokens());
    return o;
  }

  private static JsonNode toolInput(String argumentsJson) {
    JsonNode n =
        Json.parseOrNull(argumentsJson == null || argumentsJson.isBlank() ? "{}" : argumentsJson);
    return n != null && n.isObject() ? n : Json.object();
  }

  // ---- provider side ----

  public static ObjectNode encodeRequest(ChatRequest r, String model) {
    ObjectNode root = Json.object();
    root.put("model", model);
    root.put("max_tokens", Reasoning.claudeMaxTokens(r, DEFAULT_MAX_TOKENS));
    if (r.system() != null) {
      root.put("system", r.system());
    }
    ArrayNode msgs = root.putArray("messages");
    ObjectNode last = null;
    String lastRole = null;
    for (Message m : r.messages()) {
      String role = m.role() == Role.ASSISTANT ? "assistant" : "user";
      ArrayNode blocks;
      // Anthropic wants user and assistant turns to alternate: a tool result followed by a user
      // message (OpenAI sends them as two messages) becomes one user turn.
      if (role.equals(lastRole)) {
        blocks = (ArrayNode) last.get("content");
      } else {
        last = msgs.addObject().put("role", role);
        blocks = last.putArray("content");
        lastRole = role;
      }
      for (Part p : m.parts()) {
        if (p instanceof Text t) {
          if (!t.text().isEmpty()) {
            blocks.addObject().put("type", "text").put("text", t.text());
          }
        } else if (p instanceof ChatRequest.Thinking th) {
          if (th.redacted()) {
            blocks.addObject().put("type", "redacted_thinking").put("data", th.redactedData());
          } else {
            blocks
                .addObject()
                .put("type", "thinking")
                .put("thinking", th.text())
                .put("signature", th.signature());
          }
        } else if (p instanceof Media md) {
          mediaBlock(blocks, md);
        } else if (p instanceof ToolCall c) {
          ObjectNode b =
              blocks.addObject().put("type", "tool_use").put("id", c.id()).put("name", c.name());
          b.set("input", toolInput(c.argumentsJson()));
        } else if (p instanceof ToolResult tr) {
          ObjectNode b =
              blocks.addObject().put("type", "tool_result").put("tool_use_id", tr.toolCallId());
          if (tr.media().isEmpty()) {
            b.put("content", tr.content());
          } else {
            ArrayNode content = b.putArray("content");
            if (!tr.content().isEmpty()) {
              content.addObject().put("type", "text").put("text", tr.content());
            }
            tr.media().forEach(md -> mediaBlock(content, md));
          }
          if (tr.isError()) {
            b.put("is_error", true);
          }
        }
      }
    }
    Integer budget = Reasoning.claudeBudget(r);
    if (budget != null) {
      root.putObject("thinking").put("type", "enabled").put("budget_tokens", budget);
    }
    // thinking switched on from an OpenAI effort: Claude refuses sampling changes with thinking
    // (and OpenAI's reasoning models take none), so they are left out
    boolean derived = Reasoning.derivedThinking(r);
    if (r.temperature() != null && !derived) {
      root.put("temperature", Math.min(1.0, r.temperature())); // Messages takes 0..1
    }
    if (r.topP() != null && !derived) {
      root.put("top_p", r.topP());
    }
    if (!r.stop().isEmpty()) {
      ArrayNode s = root.putArray("stop_sequences");
      r.stop().forEach(s::add);
    }
    ChatRequest.ResponseFormat format = r.responseFormat();
    if (!r.tools().isEmpty() || format != null) {
      ArrayNode tools = root.putArray("tools");
      for (ChatRequest.Tool t : r.tools()) {
        ObjectNode o = tools.addObject().put("name", t.name());
        if (t.description() != null) {
          o.put("description", t.description());
        }
        o.set(
            "input_schema",
            t.parameters() != null ? t.parameters() : Json.object().put("type", "object"));
      }
      if (format != null) {
        // structured output through a forced tool (Messages has no JSON mode of its own here)
        tools
            .addObject()
            .put("name", StructuredOutput.TOOL)
            .put("description", StructuredOutput.description(format))
            .set("input_schema", StructuredOutput.schema(format));
      }
    }
    ToolChoice choice = r.toolChoice();
    if (format != null
        && (choice == null
            || choice.mode() == ToolChoice.Mode.AUTO
            || choice.mode() == ToolChoice.Mode.NONE)) {
      // the answer must be the tool's input; with tools of the caller's own, any tool may come
      choice =
          r.tools().isEmpty() || choice != null && choice.mode() == ToolChoice.Mode.NONE
              ? new ToolChoice(ToolChoice.Mode.NAMED, StructuredOutput.TOOL)
              : new ToolChoice(ToolChoice.Mode.ANY, null);
    }
    if (choice != null) {
      ObjectNode tc = root.putObject("tool_choice");
      switch (choice.mode()) {
        case AUTO -> tc.put("type", "auto");
        case NONE -> tc.put("type", "none");
        case ANY -> tc.put("type", "any");
        case NAMED -> tc.put("type", "tool").put("name", choice.name());
      }
      if (Boolean.FALSE.equals(r.parallelToolCalls()) && choice.mode() != ToolChoice.Mode.NONE) {
        tc.put("disable_parallel_tool_use", true);
      }
    } else if (Boolean.FALSE.equals(r.parallelToolCalls()) && !r.tools().isEmpty()) {
      root.putObject("tool_choice").put("type", "auto").put("disable_parallel_tool_use", true);
    }
    if (r.stream()) {
      root.put("stream", true);
    }
    return root;
  }

  /** An image or document block, inline or by URL. */
  private static void mediaBlock(ArrayNode blocks, Media md) {
    ObjectNode b =
        blocks.addObject().put("type", md.kind() == Media.Kind.IMAGE ? "image" : "document");
    ObjectNode src = b.putObject("source");
    if (md.byUrl()) {
      src.put("type", "url").put("url", md.url());
    } else {
      src.put("type", "base64").put("media_type", md.mediaType()).put("data", md.data());
    }
    if (md.kind() == Media.Kind.DOCUMENT && md.name() != null) {
      b.put("title", md.name());
    }
    if (md.citations()) {
      b.putObject("citations").put("enabled", true);
    }
  }

  public static ChatResponse decodeResponse(JsonNode body) {
    if (!body.isObject() || !body.has("content")) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider's answer has no content");
    }
    List<Part> parts = new ArrayList<>();
    for (JsonNode b : body.path("content")) {
      String type = Json.text(b, "type");
      if ("text".equals(type)) {
        JsonNode citations = b.get("citations");
        parts.add(
            new Text(
                b.path("text").asText(),
                citations != null && citations.isArray() && !citations.isEmpty()
                    ? citations
                    : null));
      } else if ("thinking".equals(type)) {
        parts.add(
            new ChatRequest.Thinking(b.path("thinking").asText(), Json.text(b, "signature"), null));
      } else if ("redacted_thinking".equals(type)) {
        parts.add(new ChatRequest.Thinking(null, null, b.path("data").asText()));
      } else if ("tool_use".equals(type) && StructuredOutput.isAnswer(Json.text(b, "name"))) {
        parts.add(new Text(Json.write(b.path("input")))); // the structured answer, as text
      } else if ("tool_use".equals(type)) {
        parts.add(
            new ToolCall(Json.text(b, "id"), Json.text(b, "name"), Json.write(b.path("input"))));
      }
    }
    FinishReason finish = FinishReason.fromAnthropic(Json.text(body, "stop_reason"));
    if (finish == FinishReason.TOOL_CALLS && parts.stream().noneMatch(ToolCall.class::isInstance)) {
      finish = FinishReason.STOP;
    }
    return new ChatResponse(
        body.path("id").asText("msg_tollgate"),
        body.path("model").asText(),
        parts,
        finish,
        readUsage(body.get("usage")));
  }

  public static Usage readUsage(JsonNode u) {
    if (u == null
        || !u.isObject()
        || Json.anyUnreadableCount(
            u,
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens")) {
      return null;
    }
    return new Usage(
        Math.max(0, Json.count(u, "input_tokens")),
        Math.max(0, Json.count(u, "output_tokens")),
        Math.max(0, Json.count(u, "cache_read_input_tokens")),
        Math.max(0, Json.count(u, "cache_creation_input_tokens")));
  }

  /** Decodes an Anthropic stream. */
  public static final class Decoder implements StreamDecoder {
    private static final StreamScan.Key TEXT = StreamScan.key("text");
    private final Map<Integer, Integer> toolIndexOfBlock = new HashMap<>();
    private final java.util.Set<Integer> answerBlocks = new java.util.HashSet<>();
    private boolean ended;

    @Override
    public List<StreamEvent> onEvent(String event, String data) {
      JsonNode e = Json.parseOrNull(data);
      if (e == null || !e.isObject()) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider streamed data that is not JSON");
      }
      List<StreamEvent> out = new ArrayList<>(2);
      switch (e.path("type").asText()) {
        case "message_start" -> {
          JsonNode m = e.path("message");
          out.add(
              new StreamEvent.Start(m.path("id").asText("msg_tollgate"), m.path("model").asText()));
          JsonNode u = m.get("usage");
          if (u != null) {
            out.add(
                new StreamEvent.UsageUpdate(
                    Json.count(u, "input_tokens"), Json.count(u, "output_tokens"),
                    Json.count(u, "cache_read_input_tokens"),
                        Json.count(u, "cache_creation_input_tokens")));
          }
        }
        case "content_block_start" -> {
          JsonNode b = e.path("content_block");
          if ("tool_use".equals(Json.text(b, "type"))
              && StructuredOutput.isAnswer(Json.text(b, "name"))) {
            answerBlocks.add(e.path("index").asInt()); // the structured answer: its input is text
          } else if ("tool_use".equals(Json.text(b, "type"))) {
            int toolIndex = toolIndexOfBlock.size();
            toolIndexOfBlock.put(e.path("index").asInt(), toolIndex);
            out.add(
                new StreamEvent.ToolCallStart(toolIndex, Json.text(b, "id"), Json.text(b, "name")));
          } else if ("text".equals(Json.text(b, "type")) && !b.path("text").asText().isEmpty()) {
            out.add(new StreamEvent.TextDelta(b.path("text").asText()));
          } else if ("thinking".equals(Json.text(b, "type"))
              && !b.path("thinking").asText().isEmpty()) {
            out.add(new StreamEvent.ThinkingDelta(b.path("thinking").asText()));
          } else if ("redacted_thinking".equals(Json.text(b, "type"))) {
            out.add(new StreamEvent.RedactedThinking(b.path("data").asText()));
          }
        }
        case "content_block_delta" -> {
          JsonNode d = e.path("delta");
          String type = Json.text(d, "type");
          if ("text_delta".equals(type)) {
            out.add(new StreamEvent.TextDelta(d.path("text").asText()));
          } else if ("thinking_delta".equals(type)) {
            out.add(new StreamEvent.ThinkingDelta(d.path("thinking").asText()));
          } else if ("signature_delta".equals(type)) {
            out.add(new StreamEvent.ThinkingSignature(d.path("signature").asText()));
          } else if ("citations_delta".equals(type) && d.path("citation").isObject()) {
            out.add(new StreamEvent.Citation(d.get("citation")));
          } else if ("input_json_delta".equals(type)
              && answerBlocks.contains(e.path("index").asInt())) {
            String json = d.path("partial_json").asText();
            if (!json.isEmpty()) {
              out.add(new StreamEvent.TextDelta(json));
            }
          } else if ("input_json_delta".equals(type)) {
            Integer tool = toolIndexOfBlock.get(e.path("index").asInt());
            String json = d.path("partial_json").asText();
            if (tool != null && !json.isEmpty()) {
              out.add(new StreamEvent.ToolArgsDelta(tool, json));
            }
          }
        }
        case "message_delta" -> {
          String stop = Json.text(e.path("delta"), "stop_reason");
          if (stop != null) {
            FinishReason f = FinishReason.fromAnthropic(stop);
            out.add(
                new StreamEvent.Finish(
                    f == FinishReason.TOOL_CALLS
                            && toolIndexOfBlock.isEmpty()
                            && !answerBlocks.isEmpty()
                        ? FinishReason.STOP
                        : f));
          }
          JsonNode u = e.get("usage");
          if (u != null) {
            out.add(
                new StreamEvent.UsageUpdate(
                    Json.count(u, "input_tokens"), Json.count(u, "output_tokens"),
                    Json.count(u, "cache_read_input_tokens"),
                        Json.count(u, "cache_creation_input_tokens")));
          }
        }
        case "message_stop" -> {
          ended = true;
          out.add(new StreamEvent.End());
        }
        case "error" ->
            throw new ProxyException(
                ErrorKind.UPSTREAM_ERROR,
                "the provider reported an error mid-stream: "
                    + e.path("error").path("message").asText());
        default -> {
          // ping, content_block_stop, and event types added later carry nothing we need
        }
      }
      return out;
    }

    /**
     * Text, thinking and signature deltas, pings and block ends carry nothing metering reads but
     * the text's length: they are recognised by their leading {@code type} (as Anthropic writes it)
     * and the delta's type, and a text delta's text is counted unparsed.
     */
    @Override
    public List<StreamEvent> onMeteredEvent(String event, String data) {
      if (data.startsWith("{\"type\":\"content_block_delta\"") && StreamScan.isObject(data)) {
        int delta = data.indexOf("\"delta\":{\"type\":\"");
        if (delta > 0) {
          int type = delta + "\"delta\":{\"type\":\"".length();
          if (data.startsWith("text_delta\"", type)) {
            int chars = StreamScan.textLength(data, TEXT);
            if (chars >= 0) {
              return StreamEvent.Delivered.of(chars);
            }
          } else if (data.startsWith("thinking_delta\"", type)
              || data.startsWith("signature_delta\"", type)) {
            return List.of();
          }
        }
      } else if (data.startsWith("{\"type\":\"ping\"")
          || data.startsWith("{\"type\":\"content_block_stop\"")) {
        return List.of();
      }
      return onEvent(event, data);
    }

    @Override
    public List<StreamEvent> onEndOfBody() {
      if (!ended) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_STREAM_BROKEN, "the provider's stream ended without message_stop");
      }
      return List.of();
    }
  }

  /** Writes neutral events as Anthropic stream events, opening and closing content blocks. */
  public static final class Encoder implements StreamEncoder {
    private String id = "msg_tollgate";
    private String model = "";
    private boolean started;
    private int nextBlock;
    private int openBlock = -1;

    /** The open block's type: {@code text}, {@code tool_use} or {@code thinking}. */
    private String openType = "";

    /** Whether the open thinking block already has its signature (more thinking is a new block). */
    private boolean openSigned;

    private final Map<Integer, Integer> blockOfTool = new HashMap<>();
    private FinishReason finish = FinishReason.STOP;
    private final UsageAccumulator usage = new UsageAccumulator();

    private static String sse(String event, ObjectNode data) {
      return "event: " + event + "\ndata: " + Json.write(data) + "\n\n";
    }

    private String start(StringBuilder sb) {
      if (!started) {
        started = true;
        ObjectNode e = Json.object().put("type", "message_start");
        ObjectNode m = e.putObject("message");
        m.put("id", id).put("type", "message").put("role", "assistant").put("model", model);
        m.putArray("content");
        m.putNull("stop_reason");
        m.putNull("stop_sequence");
        m.set("usage", usage(usage.usage()));
        sb.append(sse("message_start", e));
      }
      return "";
    }

    private void closeOpen(StringBuilder sb) {
      if (openBlock >= 0) {
        sb.append(
            sse(
                "content_block_stop",
                Json.object().put("type", "content_block_stop").put("index", openBlock)));
        openBlock = -1;
        openType = "";
      }
    }

    /** Opens a block of {@code type} unless one that more content can join is open. */
    private void open(StringBuilder sb, ObjectNode contentBlock) {
      String type = contentBlock.path("type").asText();
      if (openBlock >= 0 && openType.equals(type) && !("thinking".equals(type) && openSigned)) {
        return;
      }
      closeOpen(sb);
      openBlock = nextBlock++;
      openType = type;
      openSigned = false;
      ObjectNode e = Json.object().put("type", "content_block_start").put("index", openBlock);
      e.set("content_block", contentBlock);
      sb.append(sse("content_block_start", e));
    }

    private void delta(StringBuilder sb, ObjectNode delta) {
      ObjectNode d = Json.object().put("type", "content_block_delta").put("index", openBlock);
      d.set("delta", delta);
      sb.append(sse("content_block_delta", d));
    }

    @Override
    public String encode(StreamEvent event) {
      StringBuilder sb = new StringBuilder();
      if (event instanceof StreamEvent.Start s) {
        id = s.id() == null ? id : s.id();
        model = s.model() == null ? model : s.model();
        // wait for usage of the first events (Anthropic and Gemini report input up front)
        return "";
      }
      if (event instanceof StreamEvent.UsageUpdate u) {
        usage.add(u);
        return "";
      }
      start(sb);
      if (event instanceof StreamEvent.TextDelta t) {
        open(sb, Json.object().put("type", "text").put("text", ""));
        delta(sb, Json.object().put("type", "text_delta").put("text", t.text()));
      } else if (event instanceof StreamEvent.Citation c) {
        open(sb, Json.object().put("type", "text").put("text", ""));
        ObjectNode d = Json.object().put("type", "citations_delta");
        d.set("citation", c.citation());
        delta(sb, d);
      } else if (event instanceof StreamEvent.ThinkingDelta t) {
        // the SDKs' accumulators read the signature off the start block: it starts empty
        open(sb, Json.object().put("type", "thinking").put("thinking", "").put("signature", ""));
        delta(sb, Json.object().put("type", "thinking_delta").put("thinking", t.text()));
      } else if (event instanceof StreamEvent.ThinkingSignature sig) {
        open(sb, Json.object().put("type", "thinking").put("thinking", "").put("signature", ""));
        delta(sb, Json.object().put("type", "signature_delta").put("signature", sig.signature()));
        openSigned = true;
      } else if (event instanceof StreamEvent.RedactedThinking r) {
        closeOpen(sb);
        open(sb, Json.object().put("type", "redacted_thinking").put("data", r.data()));
        closeOpen(sb);
      } else if (event instanceof StreamEvent.ToolCallStart tc) {
        closeOpen(sb);
        ObjectNode b =
            Json.object().put("type", "tool_use").put("id", tc.id()).put("name", tc.name());
        b.putObject("input");
        open(sb, b);
        blockOfTool.put(tc.index(), openBlock);
      } else if (event instanceof StreamEvent.ToolArgsDelta a) {
        Integer block = blockOfTool.get(a.index());
        if (block != null) {
          ObjectNode d = Json.object().put("type", "content_block_delta").put("index", block);
          d.putObject("delta").put("type", "input_json_delta").put("partial_json", a.json());
          sb.append(sse("content_block_delta", d));
        }
      } else if (event instanceof StreamEvent.Finish f) {
        finish = f.reason();
      } else if (event instanceof StreamEvent.End) {
        closeOpen(sb);
        ObjectNode d = Json.object().put("type", "message_delta");
        d.putObject("delta").put("stop_reason", finish.anthropic()).putNull("stop_sequence");
        d.set("usage", usage(usage.usage()));
        sb.append(sse("message_delta", d));
        sb.append(sse("message_stop", Json.object().put("type", "message_stop")));
      }
      return sb.toString();
    }

    @Override
    public String error(ErrorKind kind, String message) {
      return sse("error", errorBody(kind, message));
    }
  }

  private static ProxyException invalid(String message) {
    return new ProxyException(ErrorKind.INVALID_REQUEST, message);
  }
}
