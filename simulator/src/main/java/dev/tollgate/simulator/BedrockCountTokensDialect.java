package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * Bedrock's CountTokens ({@code POST /model/{id}/count-tokens}): {@code input.invokeModel.body}
 * (base64 of the model's InvokeModel body) or {@code input.converse}; answers {@code
 * {"inputTokens": n}}. As Bedrock does, refuses inference-profile ids and models that cannot count
 * (400 ValidationException), and an InvokeModel body for Claude without {@code anthropic_version}
 * or {@code max_tokens}.
 */
final class BedrockCountTokensDialect implements Dialect {
  private final BedrockDialect converse = new BedrockDialect();

  @Override
  public boolean bills() {
    return false;
  }

  @Override
  public boolean signsWithAws() {
    return true;
  }

  @Override
  public boolean speaks(String path) {
    return path.startsWith("/model/") && path.endsWith("/count-tokens");
  }

  @Override
  public String apiKey(FullHttpRequest req, QueryStringDecoder qs) {
    return Dialect.bearer(req);
  }

  @Override
  public String model(String path, JsonNode json) {
    return Dialect.bedrockModel(path);
  }

  @Override
  public boolean streams(String path, JsonNode json) {
    return false;
  }

  @Override
  public int maxTokens(JsonNode json) {
    return 0;
  }

  @Override
  public JsonNode tools(JsonNode json) {
    return JSON.createArrayNode();
  }

  @Override
  public SimulatedPromptCache.Hit promptCacheHit(
      SimulatedPromptCache cache, String model, JsonNode json) {
    return null;
  }

  @Override
  public String rejection(String model, JsonNode json) {
    if (!model.startsWith("anthropic.")) {
      return "The provided model doesn't support counting tokens.";
    }
    JsonNode input = json.path("input");
    if (input.has("converse")) {
      return input.path("converse").path("messages").isArray() ? null : "messages is required";
    }
    String b64 = input.path("invokeModel").path("body").asText(null);
    if (b64 == null) {
      return "input must have invokeModel or converse";
    }
    JsonNode body;
    try {
      body = Http.parse(new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      return "invokeModel.body is not base64";
    }
    if (body == null) {
      return "invokeModel.body is not JSON";
    }
    for (String field : List.of("anthropic_version", "max_tokens", "messages")) {
      if (!body.has(field)) {
        return field + ": field required";
      }
    }
    return body.has("model") ? "model: Extra inputs are not permitted" : null;
  }

  @Override
  public ObjectNode full(Call c) {
    return JSON.createObjectNode().put("inputTokens", c.input());
  }

  @Override
  public List<Frame> frames(Call c) {
    throw new IllegalStateException("token counting never streams");
  }

  @Override
  public ObjectNode error(int status, String message) {
    return converse.error(status, message);
  }
}
