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
 * Gemini's {@code :generateContent} and {@code :streamGenerateContent} (Google AI and Vertex AI):
 * model in the path, key in {@code x-goog-api-key}, the {@code key} parameter or a bearer token.
 */
final class GeminiDialect implements Dialect {

  @Override
  public boolean speaks(String path) {
    return path.contains(":generateContent") || path.contains(":streamGenerateContent");
  }

  @Override
  public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
    String h = req.headers().get("x-goog-api-key");
    List<String> q = qs.parameters().get("key");
    return h != null ? h : q != null ? q.get(0) : Dialect.bearer(req);
  }

  @Override
  public String model(String path, JsonNode json) {
    return path.substring(path.lastIndexOf('/') + 1, path.lastIndexOf(':'));
  }

  @Override
  public boolean streams(String path, JsonNode json) {
    return path.contains(":streamGenerateContent");
  }

  /**
   * What generateContent refuses of media: inline data without a type, files not in Google's store.
   */
  @Override
  public String rejection(String model, JsonNode json) {
    for (JsonNode c : json.path("contents")) {
      for (JsonNode p : c.path("parts")) {
        JsonNode inline = p.has("inlineData") ? p.get("inlineData") : p.path("inline_data");
        if (inline.isObject()
            && (inline.path("mimeType").asText(inline.path("mime_type").asText()).isEmpty()
                || inline.path("data").asText().isEmpty())) {
          return "Invalid value at 'contents.parts.inline_data'";
        }
        JsonNode file = p.has("fileData") ? p.get("fileData") : p.path("file_data");
        String uri = file.path("fileUri").asText(file.path("file_uri").asText());
        if (file.isObject()
            && !uri.startsWith("https://generativelanguage.googleapis.com/")
            && !uri.startsWith("gs://")) {
          return "Invalid or unsupported file uri: " + uri;
        }
      }
    }
    return null;
  }

  @Override
  public int maxTokens(JsonNode json) {
    return json.path("generationConfig").path("maxOutputTokens").asInt(Integer.MAX_VALUE);
  }

  @Override
  public SimulatedPromptCache.Hit promptCacheHit(
      SimulatedPromptCache cache, String model, JsonNode json) {
    return cache.automatic(model, json, true, false);
  }

  private static ObjectNode usage(Call c, int output) {
    ObjectNode u = JSON.createObjectNode();
    int prompt = c.input() + c.cacheRead();
    u.put("promptTokenCount", prompt);
    u.put("candidatesTokenCount", output);
    u.put("totalTokenCount", prompt + output);
    if (c.cacheRead() > 0) {
      u.put("cachedContentTokenCount", c.cacheRead());
    }
    return u;
  }

  private static ObjectNode chunk(
      Call c, String textPart, boolean functionCall, String finish, int outputSoFar) {
    ObjectNode r = JSON.createObjectNode();
    ObjectNode cand = r.putArray("candidates").addObject();
    ObjectNode content = cand.putObject("content");
    ArrayNode parts = content.putArray("parts");
    if (functionCall) {
      ObjectNode fc = parts.addObject().putObject("functionCall");
      fc.put("name", c.b().toolCallName());
      fc.set("args", Http.parse(c.b().toolCallArguments()));
    } else if (textPart != null) {
      parts.addObject().put("text", textPart);
    }
    content.put("role", "model");
    if (finish != null) {
      cand.put("finishReason", finish);
    }
    cand.put("index", 0);
    if (!c.b().omitUsage()) {
      r.set("usageMetadata", usage(c, outputSoFar));
    }
    r.put("modelVersion", c.model());
    return r;
  }

  @Override
  public ObjectNode full(Call c) {
    return chunk(
        c,
        c.toolCall() ? null : Call.text(c.output()),
        c.toolCall(),
        c.truncated() ? "MAX_TOKENS" : "STOP",
        c.output());
  }

  @Override
  public List<Frame> frames(Call c) {
    List<Frame> frames = new ArrayList<>();
    if (c.toolCall()) {
      frames.add(new Frame(null, chunk(c, null, true, "STOP", c.output()).toString(), c.output()));
      return frames;
    }
    for (int i = 0; i < c.output(); i++) {
      boolean last = i == c.output() - 1;
      String finish = last ? (c.truncated() ? "MAX_TOKENS" : "STOP") : null;
      frames.add(new Frame(null, chunk(c, Call.token(i), false, finish, i + 1).toString(), 1));
    }
    if (c.output() == 0) {
      frames.add(new Frame(null, chunk(c, "", false, "STOP", 0).toString(), 0));
    }
    return frames;
  }

  @Override
  public ObjectNode error(int status, String message) {
    ObjectNode r = JSON.createObjectNode();
    String s =
        switch (status) {
          case 429 -> "RESOURCE_EXHAUSTED";
          case 503 -> "UNAVAILABLE";
          case 401 -> "UNAUTHENTICATED";
          case 400 -> "INVALID_ARGUMENT";
          default -> "INTERNAL";
        };
    r.putObject("error").put("code", status).put("message", message).put("status", s);
    return r;
  }
}
