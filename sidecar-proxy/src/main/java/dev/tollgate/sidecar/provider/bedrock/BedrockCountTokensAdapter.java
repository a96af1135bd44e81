package dev.tollgate.sidecar.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.EndpointAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.UnservedEndpoint;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * Token counting for Claude on Bedrock through Bedrock's CountTokens API ({@code POST
 * /model/{modelId}/count-tokens}): the caller's Anthropic count_tokens body becomes the InvokeModel
 * body Claude takes on Bedrock ({@code anthropic_version} {@code bedrock-2023-05-31}, no {@code
 * model}, a {@code max_tokens} the count does not depend on), base64 in {@code
 * input.invokeModel.body}, so that tools, system blocks and thinking are counted as Claude sees
 * them. The answer {@code {"inputTokens": n}} is rewritten as Anthropic's {@code {"input_tokens":
 * n}}. CountTokens takes a foundation model id, not a cross-region inference profile, so a profile
 * prefix is dropped. Free, like Anthropic's. Models other than Claude are refused with a 400 before
 * anything is sent: Bedrock counts them in another request shape, and an estimate would mislead a
 * caller that compacts its context by the count.
 */
final class BedrockCountTokensAdapter extends EndpointAdapter {
  static final String INVOKE_VERSION = "bedrock-2023-05-31";

  private static final UnservedEndpoint NOT_CLAUDE =
      new UnservedEndpoint(
          "POST /v1/messages/count_tokens",
          "Bedrock counts tokens in Anthropic's format for Anthropic Claude models only"
              + " (anthropic.claude-...); route this model to a Claude model or an anthropic"
              + " credential");

  BedrockCountTokensAdapter(ProviderAdapter chat) {
    super(ApiFormat.ANTHROPIC_COUNT_TOKENS, chat);
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    if (!model.contains("anthropic.claude")) {
      return NOT_CLAUDE.url(c, model, stream); // throws the 400
    }
    return URI.create(
        BedrockAdapter.base(c)
            + "/model/"
            + URLEncoder.encode(BedrockAdapter.foundationModel(model), StandardCharsets.UTF_8)
            + "/count-tokens");
  }

  @Override
  public ObjectNode forward(ObjectNode callerBody, String model, boolean stream) {
    callerBody.remove("model");
    callerBody.remove("stream");
    callerBody.put("anthropic_version", INVOKE_VERSION);
    // InvokeModel requires max_tokens, above a thinking budget; the count does not depend on it
    long budget = Math.max(0, callerBody.path("thinking").path("budget_tokens").asLong(0));
    callerBody.put("max_tokens", budget + 1);
    ObjectNode body = Json.object();
    body.putObject("input")
        .putObject("invokeModel")
        .put(
            "body",
            Base64.getEncoder()
                .encodeToString(Json.write(callerBody).getBytes(StandardCharsets.UTF_8)));
    return body;
  }

  @Override
  public boolean rewritesAnswer() {
    return true;
  }

  /** {@code {"inputTokens": n}} as Anthropic's {@code {"input_tokens": n}}. */
  @Override
  public ChatResponse decode(JsonNode body, String model) {
    JsonNode n = body.path("inputTokens");
    if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE, "Bedrock's token count has no valid inputTokens");
    }
    ObjectNode answer = Json.object().put("input_tokens", n.asLong());
    return new ChatResponse(
        "",
        model,
        List.of(new ChatRequest.Text(Json.write(answer))),
        FinishReason.STOP,
        Usage.ZERO);
  }
}
