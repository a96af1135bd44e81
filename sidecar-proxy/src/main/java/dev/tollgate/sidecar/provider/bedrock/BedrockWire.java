package dev.tollgate.sidecar.provider.bedrock;

import static dev.tollgate.sidecar.chat.Capabilities.Feature.DOCUMENT;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.IMAGE;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.RESPONSE_FORMAT;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.TOOL_RESULT_MEDIA;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.Capabilities;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatRequest.Media;
import dev.tollgate.sidecar.chat.ChatRequest.Message;
import dev.tollgate.sidecar.chat.ChatRequest.Part;
import dev.tollgate.sidecar.chat.ChatRequest.Text;
import dev.tollgate.sidecar.chat.ChatRequest.ToolCall;
import dev.tollgate.sidecar.chat.ChatRequest.ToolResult;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Reasoning;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.StructuredOutput;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * AWS Bedrock's Converse API (provider side only). Streams ({@code ConverseStream}) are AWS
 * event-stream frames, decoded by {@code software.amazon.eventstream}; each frame's {@code
 * :event-type} and JSON payload are handed to {@link Decoder}.
 */
public final class BedrockWire {
  private BedrockWire() {}

  public static String path(String model, boolean stream) {
    return "/model/"
        + URLEncoder.encode(model, StandardCharsets.UTF_8)
        + (stream ? "/converse-stream" : "/converse");
  }

  /** Converse takes images and PDFs as bytes (or S3 locations), not by URL. */
  public static final Capabilities CAPABILITIES =
      Capabilities.of(IMAGE, DOCUMENT, RESPONSE_FORMAT, TOOL_RESULT_MEDIA);

  public static ObjectNode encodeRequest(ChatRequest r) {
    return encodeRequest(r, null);
  }

  /** Room for the answer beside a thinking budget when the caller set no cap (as for Messages). */
  static final int DEFAULT_MAX_TOKENS = 4096;

  /**
   * Whether {@code model} is a Claude model, which takes extended thinking and its signed reasoning
   * blocks (other Bedrock models get neither: the blocks are dropped).
   */
  static boolean claude(String model) {
    return model == null || model.contains("anthropic.claude") || model.contains("claude");
  }

  public static ObjectNode encodeRequest(ChatRequest r, String model) {
    boolean thinks = claude(model);
    ObjectNode root = Json.object();
    ArrayNode msgs = root.putArray("messages");
    ObjectNode last = null;
    String lastRole = null;
    int[] documents = {0}; // documents are numbered for their names
    for (Message m : r.messages()) {
      String role = m.role() == ChatRequest.Role.ASSISTANT ? "assistant" : "user";
      ArrayNode content;
      // like Anthropic, Bedrock wants alternating turns: merge a tool result and a user message
      if (role.equals(lastRole)) {
        content = (ArrayNode) last.get("content");
      } else {
        last = msgs.addObject().put("role", role);
        content = last.putArray("content");
        lastRole = role;
      }
      for (Part p : m.parts()) {
        if (p instanceof Text t) {
          if (!t.text().isEmpty()) {
            content.addObject().put("text", t.text());
          }
        } else if (p instanceof ChatRequest.Thinking th) {
          if (thinks) {
            ObjectNode rc = content.addObject().putObject("reasoningContent");
            if (th.redacted()) {
              rc.put("redactedContent", th.redactedData());
            } else {
              rc.putObject("reasoningText").put("text", th.text()).put("signature", th.signature());
            }
          }
        } else if (p instanceof Media md) {
          media(content, md, documents);
        } else if (p instanceof ToolCall c) {
          ObjectNode use =
              content
                  .addObject()
                  .putObject("toolUse")
                  .put("toolUseId", c.id())
                  .put("name", c.name());
          JsonNode input = Json.parseOrNull(c.argumentsJson());
          use.set("input", input != null && input.isObject() ? input : Json.object());
        } else if (p instanceof ToolResult tr) {
          ObjectNode res =
              content.addObject().putObject("toolResult").put("toolUseId", tr.toolCallId());
          ArrayNode rc = res.putArray("content");
          if (!tr.content().isEmpty() || tr.media().isEmpty()) {
            rc.addObject().put("text", tr.content());
          }
          for (Media md : tr.media()) {
            media(rc, md, documents); // Converse's ToolResultContentBlock takes both
          }
          if (tr.isError()) {
            res.put("status", "error");
          }
        }
      }
    }
    if (r.system() != null) {
      root.putArray("system").addObject().put("text", r.system());
    }
    ObjectNode inference = Json.object();
    Integer budget = thinks ? Reasoning.claudeBudget(r) : null;
    boolean derived = thinks && Reasoning.derivedThinking(r);
    if (r.maxTokens() != null || derived) {
      inference.put("maxTokens", Reasoning.claudeMaxTokens(r, DEFAULT_MAX_TOKENS));
    }
    if (r.temperature() != null && !derived) {
      inference.put("temperature", r.temperature());
    }
    if (r.topP() != null && !derived) {
      inference.put("topP", r.topP());
    }
    if (!r.stop().isEmpty()) {
      ArrayNode s = inference.putArray("stopSequences");
      r.stop().forEach(s::add);
    }
    if (!inference.isEmpty()) {
      root.set("inferenceConfig", inference);
    }
    if (budget != null) {
      root.putObject("additionalModelRequestFields")
          .putObject("thinking")
          .put("type", "enabled")
          .put("budget_tokens", budget);
    }
    ChatRequest.ResponseFormat format = r.responseFormat();
    if (!r.tools().isEmpty() || format != null) {
      ObjectNode toolConfig = root.putObject("toolConfig");
      ArrayNode tools = toolConfig.putArray("tools");
      for (ChatRequest.Tool t : r.tools()) {
        ObjectNode spec = tools.addObject().putObject("toolSpec").put("name", t.name());
        if (t.description() != null) {
          spec.put("description", t.description());
        }
        spec.putObject("inputSchema")
            .set(
                "json",
                t.parameters() != null ? t.parameters() : Json.object().put("type", "object"));
      }
      ChatRequest.ToolChoice choice = r.toolChoice();
      if (format != null) {
        // structured output through a forced tool, as for Anthropic (StructuredOutput)
        ObjectNode spec =
            tools
                .addObject()
                .putObject("toolSpec")
                .put("name", StructuredOutput.TOOL)
                .put("description", StructuredOutput.description(format));
        spec.putObject("inputSchema").set("json", StructuredOutput.schema(format));
        if (choice == null
            || choice.mode() == ChatRequest.ToolChoice.Mode.AUTO
            || choice.mode() == ChatRequest.ToolChoice.Mode.NONE) {
          choice =
              r.tools().isEmpty()
                      || choice != null && choice.mode() == ChatRequest.ToolChoice.Mode.NONE
                  ? new ChatRequest.ToolChoice(
                      ChatRequest.ToolChoice.Mode.NAMED, StructuredOutput.TOOL)
                  : new ChatRequest.ToolChoice(ChatRequest.ToolChoice.Mode.ANY, null);
        }
      }
      if (choice != null) {
        switch (choice.mode()) {
          case AUTO -> toolConfig.putObject("toolChoice").putObject("auto");
          case ANY -> toolConfig.putObject("toolChoice").putObject("any");
          case NAMED ->
              toolConfig.putObject("toolChoice").putObject("tool").put("name", choice.name());
          case NONE -> {
            // Converse has no "none": the tools stay declared (earlier turns may use them)
          }
        }
      }
    }
    return root;
  }

  /** An image or PDF as a Converse content block; {@code documents} counts documents so far. */
  private static void media(ArrayNode content, Media md, int[] documents) {
    if (md.byUrl()) {
      throw Capabilities.refused(md.feature(), "Bedrock takes only bytes or S3 locations");
    }
    if (md.kind() == Media.Kind.IMAGE) {
      content
          .addObject()
          .putObject("image")
          .put("format", md.format())
          .putObject("source")
          .put("bytes", md.data());
    } else {
      content
          .addObject()
          .putObject("document")
          .put("format", "pdf")
          .put("name", documentName(md.name(), ++documents[0]))
          .putObject("source")
          .put("bytes", md.data());
    }
  }

  /**
   * A document's name as Converse requires it: letters, digits, single spaces, hyphens, brackets
   * and parentheses only, unique in the request (it is shown to the model).
   */
  static String documentName(String name, int n) {
    String base = name == null ? "" : name.replaceAll("\\.[A-Za-z0-9]{1,5}$", "");
    base = base.replaceAll("[^A-Za-z0-9\\-()\\[\\] ]", " ").replaceAll(" +", " ").trim();
    if (base.length() > 100) {
      base = base.substring(0, 100).trim();
    }
    return (base.isEmpty() ? "document" : base) + " " + n;
  }

  static FinishReason finish(String stopReason) {
    if (stopReason == null) {
      return FinishReason.OTHER;
    }
    return switch (stopReason) {
      case "end_turn" -> FinishReason.STOP;
      case "stop_sequence" -> FinishReason.STOP_SEQUENCE;
      case "max_tokens" -> FinishReason.LENGTH;
      case "tool_use" -> FinishReason.TOOL_CALLS;
      case "content_filtered", "guardrail_intervened" -> FinishReason.CONTENT_FILTER;
      default -> FinishReason.OTHER;
    };
  }

  public static ChatResponse decodeResponse(JsonNode body, String model) {
    JsonNode content = body.path("output").path("message").path("content");
    if (!body.isObject() || !content.isArray()) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider's answer has no output message");
    }
    List<Part> parts = new ArrayList<>();
    for (JsonNode b : content) {
      if (b.has("reasoningContent")) {
        JsonNode rc = b.get("reasoningContent");
        if (rc.has("redactedContent")) {
          parts.add(new ChatRequest.Thinking(null, null, rc.path("redactedContent").asText()));
        } else {
          JsonNode rt = rc.path("reasoningText");
          parts.add(
              new ChatRequest.Thinking(rt.path("text").asText(), Json.text(rt, "signature"), null));
        }
      } else if (b.has("text")) {
        parts.add(new Text(b.path("text").asText()));
      } else if (b.has("toolUse")
          && StructuredOutput.isAnswer(Json.text(b.get("toolUse"), "name"))) {
        parts.add(new Text(Json.write(b.get("toolUse").path("input"))));
      } else if (b.has("toolUse")) {
        JsonNode u = b.get("toolUse");
        parts.add(
            new ToolCall(
                Json.text(u, "toolUseId"), Json.text(u, "name"), Json.write(u.path("input"))));
      }
    }
    FinishReason finish = finish(Json.text(body, "stopReason"));
    if (finish == FinishReason.TOOL_CALLS && parts.stream().noneMatch(ToolCall.class::isInstance)) {
      finish = FinishReason.STOP;
    }
    return new ChatResponse("bedrock-tollgate", model, parts, finish, readUsage(body.get("usage")));
  }

  static Usage readUsage(JsonNode u) {
    if (u == null || !u.isObject()) {
      return null;
    }
    return new Usage(
        Math.max(0, Json.count(u, "inputTokens")),
        Math.max(0, Json.count(u, "outputTokens")),
        Math.max(0, Json.count(u, "cacheReadInputTokens")),
        Math.max(0, Json.count(u, "cacheWriteInputTokens")));
  }

  /** Decodes ConverseStream events (already unframed). */
  public static final class Decoder implements StreamDecoder {
    private final String model;
    private final Map<Integer, Integer> toolOfBlock = new HashMap<>();
    private final java.util.Set<Integer> answerBlocks = new java.util.HashSet<>();
    private boolean started;
    private boolean stopped;

    private final boolean claude;

    public Decoder(String model) {
      this.model = model;
      this.claude = claude(model);
    }

    @Override
    public List<StreamEvent> onEvent(String event, String data) {
      JsonNode e = Json.parseOrNull(data);
      if (e == null || !e.isObject()) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider streamed an event that is not JSON");
      }
      List<StreamEvent> out = new ArrayList<>(2);
      if (!started) {
        started = true;
        out.add(new StreamEvent.Start("bedrock-tollgate", model));
      }
      switch (event == null ? "" : event) {
        case "contentBlockStart" -> {
          JsonNode use = e.path("start").path("toolUse");
          if (use.isObject() && StructuredOutput.isAnswer(Json.text(use, "name"))) {
            answerBlocks.add(e.path("contentBlockIndex").asInt());
          } else if (use.isObject()) {
            int tool = toolOfBlock.size();
            toolOfBlock.put(e.path("contentBlockIndex").asInt(), tool);
            out.add(
                new StreamEvent.ToolCallStart(
                    tool, Json.text(use, "toolUseId"), Json.text(use, "name")));
          }
        }
        case "contentBlockDelta" -> {
          JsonNode d = e.path("delta");
          if (d.has("text")) {
            out.add(new StreamEvent.TextDelta(d.path("text").asText()));
          } else if (d.has("reasoningContent")) {
            reasoning(d.get("reasoningContent"), out);
          } else if (d.has("toolUse")
              && answerBlocks.contains(e.path("contentBlockIndex").asInt())) {
            String input = d.path("toolUse").path("input").asText("");
            if (!input.isEmpty()) {
              out.add(new StreamEvent.TextDelta(input));
            }
          } else if (d.has("toolUse")) {
            Integer tool = toolOfBlock.get(e.path("contentBlockIndex").asInt());
            String input = d.path("toolUse").path("input").asText("");
            if (tool != null && !input.isEmpty()) {
              out.add(new StreamEvent.ToolArgsDelta(tool, input));
            }
          }
        }
        case "messageStop" -> {
          stopped = true;
          FinishReason f = finish(Json.text(e, "stopReason"));
          out.add(
              new StreamEvent.Finish(
                  f == FinishReason.TOOL_CALLS && toolOfBlock.isEmpty() && !answerBlocks.isEmpty()
                      ? FinishReason.STOP
                      : f));
        }
        case "metadata" -> {
          Usage u = readUsage(e.get("usage"));
          if (u != null) {
            out.add(
                new StreamEvent.UsageUpdate(
                    u.inputTokens(), u.outputTokens(), u.cacheReadTokens(), u.cacheWriteTokens()));
          }
        }
        default -> {
          // messageStart, contentBlockStop carry nothing the proxy needs
        }
      }
      return out;
    }

    /**
     * A {@code reasoningContent} delta (one of {@code text}, {@code signature}, {@code
     * redactedContent}): passed on for Claude models only, whose signed blocks a caller can send
     * back; other models' reasoning (no signature) has no place in the caller's formats.
     */
    private void reasoning(JsonNode rc, List<StreamEvent> out) {
      if (!claude) {
        return;
      }
      if (rc.hasNonNull("text")) {
        out.add(new StreamEvent.ThinkingDelta(rc.get("text").asText()));
      } else if (rc.hasNonNull("signature")) {
        out.add(new StreamEvent.ThinkingSignature(rc.get("signature").asText()));
      } else if (rc.hasNonNull("redactedContent")) {
        out.add(new StreamEvent.RedactedThinking(rc.get("redactedContent").asText()));
      }
    }

    @Override
    public List<StreamEvent> onEndOfBody() {
      if (!stopped) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_STREAM_BROKEN, "the provider's stream ended before messageStop");
      }
      return List.of(new StreamEvent.End());
    }
  }
}
