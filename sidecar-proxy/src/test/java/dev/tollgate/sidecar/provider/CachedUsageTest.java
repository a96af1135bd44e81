package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.bedrock.BedrockWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.StreamDecoder;
import dev.tollgate.sidecar.wire.UsageAccumulator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every provider's cached-token fields are read, whole and streamed, into {@link Usage}, whose
 * {@code inputTokens} never includes cached tokens (OpenAI and Gemini count cached tokens inside
 * the prompt; they must not be charged twice), and every caller format shows them back.
 */
class CachedUsageTest {
  private static JsonNode json(String s) {
    return Json.parseOrNull(s);
  }

  /** Folds a decoder's usage events the way the proxy does. */
  private static Usage streamed(StreamDecoder d, String[][] events) {
    UsageAccumulator acc = new UsageAccumulator();
    for (String[] e : events) {
      for (StreamEvent ev : d.onEvent(e[0], e[1])) {
        if (ev instanceof StreamEvent.UsageUpdate u) {
          acc.add(u);
        }
      }
    }
    return acc.usage();
  }

  @Test
  void anthropicWholeAnswer() {
    ChatResponse r =
        AnthropicWire.decodeResponse(
            json(
                """
                {"id":"m","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn",
                 "usage":{"input_tokens":200,"cache_creation_input_tokens":1000,
                          "cache_read_input_tokens":0,"output_tokens":150}}
                """));
    assertThat(r.usage()).isEqualTo(new Usage(200, 150, 0, 1000));
  }

  @Test
  void anthropicStreamReportsCacheInMessageStartAndMessageDelta() {
    // message_start carries input and cache counts; message_delta the output (older API) or
    // cumulative counts of every kind (newer API): both must end in the same usage
    String[][] older = {
      {
        "message_start",
        "{\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{"
            + "\"input_tokens\":200,\"cache_creation_input_tokens\":0,"
            + "\"cache_read_input_tokens\":1000,\"output_tokens\":1}}}"
      },
      {
        "message_delta",
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
            + "\"usage\":{\"output_tokens\":150}}"
      },
      {"message_stop", "{\"type\":\"message_stop\"}"}
    };
    assertThat(streamed(new AnthropicWire.Decoder(), older))
        .isEqualTo(new Usage(200, 150, 1000, 0));

    String[][] newer = {
      {
        "message_start",
        "{\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{"
            + "\"input_tokens\":200,\"output_tokens\":1}}}"
      },
      {
        "message_delta",
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
            + "\"usage\":{\"input_tokens\":200,\"cache_creation_input_tokens\":300,"
            + "\"cache_read_input_tokens\":1000,\"output_tokens\":150}}"
      },
      {"message_stop", "{\"type\":\"message_stop\"}"}
    };
    assertThat(streamed(new AnthropicWire.Decoder(), newer))
        .isEqualTo(new Usage(200, 150, 1000, 300));
  }

  @Test
  void openAiCachedTokensAreTakenOutOfThePrompt() {
    ChatResponse r =
        OpenAiWire.decodeResponse(
            json(
                """
                {"id":"c","choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":1200,"completion_tokens":80,"total_tokens":1280,
                          "prompt_tokens_details":{"cached_tokens":1024}}}
                """));
    assertThat(r.usage()).isEqualTo(new Usage(176, 80, 1024, 0));
    assertThat(r.usage().promptTokens()).isEqualTo(1200);

    String[][] stream = {
      {null, "{\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}"},
      {
        null,
        "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":80,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":1024}}}"
      },
      {null, "[DONE]"}
    };
    assertThat(streamed(new OpenAiWire.Decoder(), stream)).isEqualTo(new Usage(176, 80, 1024, 0));
  }

  @Test
  void geminiCachedContentIsTakenOutOfThePrompt() {
    ChatResponse r =
        GeminiWire.decodeResponse(
            json(
                """
                {"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}],
                 "usageMetadata":{"promptTokenCount":1500,"cachedContentTokenCount":1024,
                                  "candidatesTokenCount":60,"totalTokenCount":1560}}
                """));
    assertThat(r.usage()).isEqualTo(new Usage(476, 60, 1024, 0));

    // running totals: the last chunk's numbers are the call's
    String[][] stream = {
      {
        null,
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"o\"}]}}],\"usageMetadata\":"
            + "{\"promptTokenCount\":1500,\"cachedContentTokenCount\":1024,"
            + "\"candidatesTokenCount\":1}}"
      },
      {
        null,
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"k\"}]},\"finishReason\":\"STOP\"}],"
            + "\"usageMetadata\":{\"promptTokenCount\":1500,\"cachedContentTokenCount\":1024,"
            + "\"candidatesTokenCount\":60}}"
      }
    };
    assertThat(streamed(new GeminiWire.Decoder(), stream)).isEqualTo(new Usage(476, 60, 1024, 0));
  }

  @Test
  void bedrockReportsCacheReadsAndWritesApartFromInput() {
    ChatResponse r =
        BedrockWire.decodeResponse(
            json(
                """
                {"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},
                 "stopReason":"end_turn",
                 "usage":{"inputTokens":200,"outputTokens":150,"totalTokens":1650,
                          "cacheReadInputTokens":1000,"cacheWriteInputTokens":300}}
                """),
            "anthropic.claude-3-5-sonnet-20241022-v2:0");
    assertThat(r.usage()).isEqualTo(new Usage(200, 150, 1000, 300));

    String[][] stream = {
      {"messageStart", "{\"role\":\"assistant\"}"},
      {"contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"ok\"}}"},
      {"messageStop", "{\"stopReason\":\"end_turn\"}"},
      {
        "metadata",
        "{\"usage\":{\"inputTokens\":200,\"outputTokens\":150,"
            + "\"cacheReadInputTokens\":1000,\"cacheWriteInputTokens\":300}}"
      }
    };
    assertThat(streamed(new BedrockWire.Decoder("m"), stream))
        .isEqualTo(new Usage(200, 150, 1000, 300));
  }

  private static final Usage CLAUDE_USAGE = new Usage(200, 150, 1000, 300);

  @Test
  void openAiCallerServedByClaudeSeesCachedTokensInPromptTokensDetails() {
    ChatResponse r =
        new ChatResponse(
            "m", "claude", List.of(new ChatRequest.Text("ok")), FinishReason.STOP, CLAUDE_USAGE);
    JsonNode u = OpenAiWire.renderResponse(r).get("usage");
    // OpenAI's prompt_tokens counts every input token, cached or not
    assertThat(u.path("prompt_tokens").asLong()).isEqualTo(1500);
    assertThat(u.at("/prompt_tokens_details/cached_tokens").asLong()).isEqualTo(1000);
    assertThat(u.path("completion_tokens").asLong()).isEqualTo(150);
    assertThat(u.path("total_tokens").asLong()).isEqualTo(1650);

    OpenAiWire.Encoder enc = new OpenAiWire.Encoder(true);
    enc.encode(new StreamEvent.Start("m", "claude"));
    enc.encode(new StreamEvent.UsageUpdate(200, 1, 1000, 300));
    enc.encode(new StreamEvent.UsageUpdate(-1, 150, -1, -1));
    String tail = enc.encode(new StreamEvent.End());
    JsonNode chunk = json(tail.substring("data: ".length(), tail.indexOf("\n\n")));
    assertThat(chunk.at("/usage/prompt_tokens").asLong()).isEqualTo(1500);
    assertThat(chunk.at("/usage/prompt_tokens_details/cached_tokens").asLong()).isEqualTo(1000);
  }

  @Test
  void anthropicCallerServedByOpenAiSeesCacheReadsApartFromInput() {
    Usage openAi = new Usage(176, 80, 1024, 0);
    ChatResponse r =
        new ChatResponse(
            "c", "gpt-4o", List.of(new ChatRequest.Text("ok")), FinishReason.STOP, openAi);
    JsonNode u = AnthropicWire.renderResponse(r).get("usage");
    assertThat(u.path("input_tokens").asLong()).isEqualTo(176);
    assertThat(u.path("cache_read_input_tokens").asLong()).isEqualTo(1024);
    assertThat(u.path("cache_creation_input_tokens").asLong()).isEqualTo(0);
    assertThat(u.path("output_tokens").asLong()).isEqualTo(80);
  }
}
