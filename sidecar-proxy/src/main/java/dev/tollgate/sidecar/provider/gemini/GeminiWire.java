package dev.tollgate.sidecar.provider.gemini;

import static dev.tollgate.sidecar.chat.Capabilities.Feature.DOCUMENT;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.IMAGE;
import static dev.tollgate.sidecar.chat.Capabilities.Feature.LOGPROBS;
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
import dev.tollgate.sidecar.chat.TokenLogprob;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Google Gemini's generateContent wire format (provider side only: callers never speak it). */
public final class GeminiWire {
  private GeminiWire() {}

  /** The request path under the endpoint for {@code model}. */
  public static String path(String model, boolean stream) {
    return "/v1beta/models/"
        + model
        + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  }

  /** Gemini takes images and PDFs inline, not by URL. */
  public static final Capabilities CAPABILITIES =
      Capabilities.of(IMAGE, DOCUMENT, RESPONSE_FORMAT, LOGPROBS);

  /** Gemini 3 and later also take images and PDFs inside function responses. */
  private static final Capabilities MULTIMODAL_FUNCTION_RESPONSES =
      Capabilities.of(IMAGE, DOCUMENT, RESPONSE_FORMAT, LOGPROBS, TOOL_RESULT_MEDIA);

  /** What {@code model} can take: function responses with media from Gemini 3 on. */
  public static Capabilities capabilities(String model) {
    return version(model) >= 30 ? MULTIMODAL_FUNCTION_RESPONSES : CAPABILITIES;
  }

  public static ObjectNode encodeRequest(ChatRequest r) {
    return encodeRequest(r, null);
  }

  /**
   * Google's documented stand-in for a thought signature the request cannot have: a function call
   * that another provider made (a conversation that failed over) or whose signature the caller's
   * format had no place for. Gemini 3 models refuse a model turn's function call without one (400
   * "Function call is missing a thought_signature"); see the thought-signatures guide.
   */
  static final String SKIP_SIGNATURE = "skip_thought_signature_validator";

  /**
   * A Gemini model's version as major * 10 + minor ({@code gemini-2.5-flash}: 25, {@code
   * gemini-3-pro-preview}: 30), or -1 when the name says none.
   */
  static int version(String model) {
    if (model == null) {
      return -1;
    }
    String m = model.toLowerCase(java.util.Locale.ROOT);
    m = m.substring(m.lastIndexOf('/') + 1);
    java.util.regex.Matcher v = VERSION.matcher(m);
    return v.lookingAt()
        ? Integer.parseInt(v.group(1)) * 10
            + (v.group(2) == null ? 0 : Integer.parseInt(v.group(2)))
        : -1;
  }

  private static final java.util.regex.Pattern VERSION =
      java.util.regex.Pattern.compile("gemini-(\\d+)(?:\\.(\\d))?");

  /** Gemini 3 and later check thought signatures on earlier turns' function calls. */
  static boolean checksSignatures(String model) {
    return version(model) >= 30;
  }

  /**
   * {@code generationConfig.thinkingConfig} for the request's thinking ({@code reasoning_effort} or
   * a Claude thinking budget, see {@link Reasoning}), as the model family takes it: Gemini 3 and
   * later a {@code thinkingLevel} (Pro models only {@code low} and {@code high}), Gemini 2.5 a
   * {@code thinkingBudget} within the model's range (Flash up to 24,576 and off at 0; Pro 128 to
   * 32,768, never off); older models have no thinking and get none.
   */
  static ObjectNode thinkingConfig(ChatRequest r, String model) {
    String effort =
        r.reasoningEffort() != null
            ? r.reasoningEffort()
            : r.thinkingBudget() != null ? Reasoning.effort(r.thinkingBudget()) : null;
    int version = version(model);
    if (effort == null || version < 25) {
      return null;
    }
    boolean pro = model.toLowerCase(java.util.Locale.ROOT).contains("pro");
    ObjectNode tc = Json.object();
    if (version >= 30) {
      String level =
          switch (effort) {
            case "none", "minimal" -> pro ? "low" : "minimal";
            case "low" -> "low";
            case "medium" -> pro ? "high" : "medium";
            default -> "high";
          };
      return tc.put("thinkingLevel", level);
    }
    int budget =
        r.reasoningEffort() == null ? r.thinkingBudget() : Reasoning.budget(r.reasoningEffort());
    budget = pro ? Math.max(128, Math.min(32768, budget)) : Math.min(24576, budget);
    return tc.put("thinkingBudget", budget);
  }

  public static ObjectNode encodeRequest(ChatRequest r, String model) {
    boolean signatures = checksSignatures(model);
    ObjectNode root = Json.object();
    ArrayNode contents = root.putArray("contents");
    // functionResponse names the function, tool results only name the call: remember the calls
    Map<String, String> nameOfCall = new HashMap<>();
    for (Message m : r.messages()) {
      ObjectNode c =
          contents
              .addObject()
              .put("role", m.role() == ChatRequest.Role.ASSISTANT ? "model" : "user");
      ArrayNode parts = c.putArray("parts");
      boolean signed = false; // of parallel calls, the first carries the turn's signature
      for (Part p : m.parts()) {
        if (p instanceof Text t) {
          parts.addObject().put("text", t.text());
        } else if (p instanceof Media md) {
          if (md.byUrl()) {
            // fileData takes only files uploaded to Google (Files API, gs://): the sidecar never
            // fetches a URL, so such requests go to a target that does (Capabilities)
            throw Capabilities.refused(md.feature(), "Gemini takes only inline data here");
          }
          parts
              .addObject()
              .putObject("inlineData")
              .put("mimeType", md.mediaType())
              .put("data", md.data());
        } else if (p instanceof ToolCall tc) {
          nameOfCall.put(tc.id(), tc.name());
          ObjectNode part = parts.addObject();
          ObjectNode fc = part.putObject("functionCall").put("name", tc.name());
          JsonNode args = Json.parseOrNull(tc.argumentsJson());
          fc.set("args", args != null && args.isObject() ? args : Json.object());
          if (signatures && !signed) {
            part.put("thoughtSignature", SKIP_SIGNATURE);
            signed = true;
          }
        } else if (p instanceof ToolResult tr) {
          ObjectNode fr = parts.addObject().putObject("functionResponse");
          fr.put("name", nameOfCall.getOrDefault(tr.toolCallId(), tr.toolCallId()));
          fr.putObject("response").put("content", tr.content());
          if (!tr.media().isEmpty()) {
            // Gemini 3's multimodal function responses: the images and PDFs go inside it
            ArrayNode frParts = fr.putArray("parts");
            for (Media md : tr.media()) {
              if (md.byUrl()) {
                throw Capabilities.refused(md.feature(), "Gemini takes only inline data here");
              }
              frParts
                  .addObject()
                  .putObject("inlineData")
                  .put("mimeType", md.mediaType())
                  .put("data", md.data());
            }
          }
        }
      }
    }
    if (r.system() != null) {
      root.putObject("systemInstruction").putArray("parts").addObject().put("text", r.system());
    }
    ObjectNode gen = Json.object();
    if (r.maxTokens() != null) {
      gen.put("maxOutputTokens", r.maxTokens());
    }
    if (r.temperature() != null) {
      gen.put("temperature", r.temperature());
    }
    if (r.topP() != null) {
      gen.put("topP", r.topP());
    }
    if (!r.stop().isEmpty()) {
      ArrayNode s = gen.putArray("stopSequences");
      r.stop().forEach(s::add);
    }
    if (r.seed() != null) {
      gen.put("seed", r.seed());
    }
    if (r.responseFormat() != null) {
      gen.put("responseMimeType", "application/json");
      if (r.responseFormat().hasSchema()) {
        gen.set("responseSchema", schema(r.responseFormat().schema().deepCopy()));
      }
    }
    if (r.topLogprobs() != null) {
      gen.put("responseLogprobs", true);
      if (r.topLogprobs() > 0) {
        gen.put("logprobs", r.topLogprobs());
      }
    }
    ObjectNode thinking = thinkingConfig(r, model);
    if (thinking != null) {
      gen.set("thinkingConfig", thinking);
    }
    if (!gen.isEmpty()) {
      root.set("generationConfig", gen);
    }
    if (!r.tools().isEmpty()) {
      ArrayNode decls = root.putArray("tools").addObject().putArray("functionDeclarations");
      for (ChatRequest.Tool t : r.tools()) {
        ObjectNode d = decls.addObject().put("name", t.name());
        if (t.description() != null) {
          d.put("description", t.description());
        }
        if (t.parameters() != null) {
          d.set("parameters", schema(t.parameters().deepCopy()));
        }
      }
    }
    if (r.toolChoice() != null) {
      ObjectNode fcc = root.putObject("toolConfig").putObject("functionCallingConfig");
      switch (r.toolChoice().mode()) {
        case AUTO -> fcc.put("mode", "AUTO");
        case NONE -> fcc.put("mode", "NONE");
        case ANY -> fcc.put("mode", "ANY");
        case NAMED -> {
          fcc.put("mode", "ANY");
          fcc.putArray("allowedFunctionNames").add(r.toolChoice().name());
        }
      }
    }
    return root;
  }

  /** Gemini accepts an OpenAPI subset of JSON schema: drop the keywords it rejects. */
  private static JsonNode schema(JsonNode node) {
    if (node.isObject()) {
      ObjectNode o = (ObjectNode) node;
      o.remove(List.of("$schema", "additionalProperties", "strict"));
      Iterator<Map.Entry<String, JsonNode>> it = o.fields();
      while (it.hasNext()) {
        schema(it.next().getValue());
      }
    } else if (node.isArray()) {
      node.forEach(GeminiWire::schema);
    }
    return node;
  }

  public static ChatResponse decodeResponse(JsonNode body) {
    JsonNode cand = body.path("candidates").path(0);
    if (!body.isObject() || cand.isMissingNode()) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider's answer has no candidates");
    }
    List<Part> parts = new ArrayList<>();
    int calls = 0;
    for (JsonNode p : cand.path("content").path("parts")) {
      if (thought(p)) {
        continue; // a thought summary: no caller format can carry Gemini's thoughts (see README)
      } else if (p.has("text")) {
        parts.add(new Text(p.path("text").asText()));
      } else if (p.has("functionCall")) {
        JsonNode fc = p.get("functionCall");
        parts.add(
            new ToolCall("call_" + calls++, Json.text(fc, "name"), Json.write(fc.path("args"))));
      }
    }
    FinishReason finish =
        calls > 0
            ? FinishReason.TOOL_CALLS
            : FinishReason.fromGemini(Json.text(cand, "finishReason"));
    return new ChatResponse(
        body.path("responseId").asText("gemini-tollgate"),
        body.path("modelVersion").asText(),
        parts,
        finish,
        readUsage(body.get("usageMetadata")),
        readLogprobs(cand.get("logprobsResult")));
  }

  /**
   * Gemini's {@code logprobsResult}: {@code chosenCandidates[i]} ({@code token}, {@code
   * logProbability}) with the alternatives {@code topCandidates[i].candidates}; null when absent.
   */
  static List<TokenLogprob> readLogprobs(JsonNode result) {
    JsonNode chosen = result == null ? null : result.get("chosenCandidates");
    if (chosen == null || !chosen.isArray()) {
      return null;
    }
    JsonNode tops = result.path("topCandidates");
    List<TokenLogprob> out = new ArrayList<>(chosen.size());
    for (int i = 0; i < chosen.size(); i++) {
      List<TokenLogprob> top = new ArrayList<>();
      for (JsonNode alt : tops.path(i).path("candidates")) {
        top.add(
            new TokenLogprob(
                alt.path("token").asText(), alt.path("logProbability").asDouble(), null));
      }
      JsonNode c = chosen.get(i);
      out.add(new TokenLogprob(c.path("token").asText(), c.path("logProbability").asDouble(), top));
    }
    return out;
  }

  /** A part of the model's thinking ({@code thought: true}, sent with {@code includeThoughts}). */
  private static boolean thought(JsonNode part) {
    return part.path("thought").asBoolean(false);
  }

  static Usage readUsage(JsonNode u) {
    if (u == null || !u.isObject()) {
      return null;
    }
    long prompt = Math.max(0, Json.count(u, "promptTokenCount"));
    long cached = Math.max(0, Json.count(u, "cachedContentTokenCount"));
    long output =
        Math.max(0, Json.count(u, "candidatesTokenCount"))
            + Math.max(0, Json.count(u, "thoughtsTokenCount"));
    return new Usage(Math.max(0, prompt - cached), output, cached, 0);
  }

  /** Decodes Gemini's SSE stream: every event is a whole GenerateContentResponse. */
  public static final class Decoder implements StreamDecoder {
    private boolean started;
    private boolean sawFinish;
    private int calls;

    @Override
    public List<StreamEvent> onEvent(String event, String data) {
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
      List<StreamEvent> out = new ArrayList<>(3);
      if (!started) {
        started = true;
        out.add(
            new StreamEvent.Start(
                chunk.path("responseId").asText("gemini-tollgate"),
                chunk.path("modelVersion").asText()));
      }
      JsonNode cand = chunk.path("candidates").path(0);
      List<TokenLogprob> logprobs = readLogprobs(cand.get("logprobsResult"));
      if (logprobs != null && !logprobs.isEmpty()) {
        out.add(new StreamEvent.Logprobs(logprobs)); // of this chunk's text
      }
      for (JsonNode p : cand.path("content").path("parts")) {
        if (thought(p)) {
          continue;
        } else if (p.has("text") && !p.path("text").asText().isEmpty()) {
          out.add(new StreamEvent.TextDelta(p.path("text").asText()));
        } else if (p.has("functionCall")) {
          JsonNode fc = p.get("functionCall");
          int index = calls++;
          out.add(new StreamEvent.ToolCallStart(index, "call_" + index, Json.text(fc, "name")));
          out.add(new StreamEvent.ToolArgsDelta(index, Json.write(fc.path("args"))));
        }
      }
      String finish = Json.text(cand, "finishReason");
      if (finish != null) {
        sawFinish = true;
        out.add(
            new StreamEvent.Finish(
                calls > 0 ? FinishReason.TOOL_CALLS : FinishReason.fromGemini(finish)));
      }
      Usage u = readUsage(chunk.get("usageMetadata"));
      if (u != null) {
        out.add(
            new StreamEvent.UsageUpdate(
                u.inputTokens(), u.outputTokens(), u.cacheReadTokens(), -1));
      }
      return out;
    }

    @Override
    public List<StreamEvent> onEndOfBody() {
      if (!sawFinish) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_STREAM_BROKEN, "the provider's stream ended before a finishReason");
      }
      return List.of(new StreamEvent.End());
    }
  }
}
