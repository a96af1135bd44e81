package dev.tollgate.sidecar.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.StreamEncoder;
import dev.tollgate.sidecar.wire.UsageAccumulator;
import java.util.List;

/**
 * OpenAI's legacy completions ({@code POST /v1/completions}): routed by the route alias in {@code
 * model}, forwarded as sent to OpenAI-format targets and metered like chat; other providers refuse
 * it with a 400 (a prompt without messages is not translated). Answers are written here only when
 * the response cache replays them.
 */
final class OpenAiCompletionsFormat extends EndpointFormat {
  OpenAiCompletionsFormat() {
    super(
        ApiFormat.OPENAI_COMPLETIONS,
        "POST /v1/completions",
        "legacy completions are served by OpenAI-format providers only; route this model to"
            + " one, or call /v1/chat/completions",
        "legacy completions");
  }

  @Override
  public ObjectNode renderResponse(ChatResponse r) {
    ObjectNode root = Json.object().put("id", r.id()).put("object", "text_completion");
    root.put("created", System.currentTimeMillis() / 1000).put("model", r.model());
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("text", r.text()).put("index", 0).putNull("logprobs");
    choice.put("finish_reason", r.finish().openAi());
    if (r.usage() != null) {
      root.set("usage", usage(r.usage()));
    }
    return root;
  }

  private static ObjectNode usage(Usage u) {
    return Json.object()
        .put("prompt_tokens", u.promptTokens())
        .put("completion_tokens", u.outputTokens())
        .put("total_tokens", u.promptTokens() + u.outputTokens());
  }

  @Override
  public StreamEncoder streamEncoder(boolean includeUsage) {
    return new StreamEncoder() {
      private final UsageAccumulator usage = new UsageAccumulator();
      private String id = "cmpl-tollgate";
      private String model = "";

      private ObjectNode chunk() {
        return Json.object()
            .put("id", id)
            .put("object", "text_completion")
            .put("created", System.currentTimeMillis() / 1000)
            .put("model", model);
      }

      private String sse(ObjectNode o) {
        return "data: " + Json.write(o) + "\n\n";
      }

      @Override
      public String encode(StreamEvent event) {
        if (event instanceof StreamEvent.Start s) {
          id = s.id() == null ? id : s.id();
          model = s.model() == null ? model : s.model();
        } else if (event instanceof StreamEvent.TextDelta t) {
          ObjectNode c = chunk();
          c.putArray("choices")
              .addObject()
              .put("text", t.text())
              .put("index", 0)
              .putNull("finish_reason");
          return sse(c);
        } else if (event instanceof StreamEvent.Finish f) {
          ObjectNode c = chunk();
          c.putArray("choices")
              .addObject()
              .put("text", "")
              .put("index", 0)
              .put("finish_reason", f.reason().openAi());
          return sse(c);
        } else if (event instanceof StreamEvent.UsageUpdate u) {
          usage.add(u);
        } else if (event instanceof StreamEvent.End) {
          String tail = "";
          if (includeUsage && usage.known()) {
            ObjectNode c = chunk();
            c.putArray("choices");
            c.set("usage", usage(usage.usage()));
            tail = sse(c);
          }
          return tail + "data: [DONE]\n\n";
        }
        return "";
      }

      @Override
      public String error(ErrorKind kind, String message) {
        return "data: " + Json.write(OpenAiWire.errorBody(kind, message)) + "\n\n";
      }
    };
  }

  @Override
  public ObjectNode errorBody(ErrorKind kind, String message) {
    return OpenAiWire.errorBody(kind, message);
  }

  @Override
  public String finishReason(FinishReason finish) {
    return finish.openAi();
  }

  @Override
  public boolean wantsStreamUsage(JsonNode body) {
    return body.path("stream_options").path("include_usage").asBoolean(false);
  }

  /** The usage chunk the sidecar asked for on its own behalf. */
  @Override
  public boolean hidesForwarded(List<StreamEvent> events, boolean callerWantsUsage) {
    return !callerWantsUsage
        && events.size() == 1
        && events.get(0) instanceof StreamEvent.UsageUpdate;
  }

  @Override
  public PromptCacheMarker.CallerMarks cacheMarks(JsonNode body) {
    return PromptCacheMarker.CallerMarks.ofOpenAi(MissingNode.getInstance());
  }

  @Override
  public String label() {
    return "completions";
  }
}
