package dev.tollgate.sidecar.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.EndpointAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI's legacy completions ({@code /completions}; Azure OpenAI's under the credential's
 * deployment), forwarded as sent; streams always ask for the usage chunk, as chat streams do.
 */
final class OpenAiCompletionsAdapter extends EndpointAdapter {
  OpenAiCompletionsAdapter(ProviderAdapter chat) {
    super(ApiFormat.OPENAI_COMPLETIONS, chat);
  }

  @Override
  public URI url(CredentialConfig credential, String model, boolean stream) {
    return OpenAiAdapter.operation(credential, "/completions");
  }

  @Override
  public ObjectNode forward(ObjectNode body, String model, boolean stream) {
    return chat.forward(body, model, stream);
  }

  @Override
  public ChatResponse decode(JsonNode body, String model) {
    JsonNode choice = body.path("choices").path(0);
    return new ChatResponse(
        body.path("id").asText("cmpl-tollgate"),
        body.path("model").asText(),
        List.of(new ChatRequest.Text(choice.path("text").asText(""))),
        FinishReason.fromOpenAi(Json.text(choice, "finish_reason")),
        OpenAiWire.readUsage(body.get("usage")));
  }

  @Override
  public StreamDecoder streamDecoder(String model) {
    return new Decoder();
  }

  /** Legacy completion chunks: text deltas, the finish reason, the usage chunk, {@code [DONE]}. */
  static final class Decoder implements StreamDecoder {
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
      if (chunk == null) {
        throw new ProxyException(
            ErrorKind.UPSTREAM_BAD_RESPONSE, "the provider sent a stream chunk that is not JSON");
      }
      if (!started) {
        started = true;
        out.add(new StreamEvent.Start(Json.text(chunk, "id"), Json.text(chunk, "model")));
      }
      for (JsonNode choice : chunk.path("choices")) {
        String text = choice.path("text").asText("");
        if (!text.isEmpty()) {
          out.add(new StreamEvent.TextDelta(text));
        }
        String finish = Json.text(choice, "finish_reason");
        if (finish != null) {
          out.add(new StreamEvent.Finish(FinishReason.fromOpenAi(finish)));
        }
      }
      Usage u = OpenAiWire.readUsage(chunk.get("usage"));
      if (u != null) {
        out.add(
            new StreamEvent.UsageUpdate(
                u.inputTokens(), u.outputTokens(), u.cacheReadTokens(), -1));
      }
      return out;
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
}
