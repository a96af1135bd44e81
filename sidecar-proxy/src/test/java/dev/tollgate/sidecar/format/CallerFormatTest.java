package dev.tollgate.sidecar.format;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class CallerFormatTest {
  private static final CallerFormat OPENAI = CallerFormat.of(ApiFormat.OPENAI);
  private static final CallerFormat ANTHROPIC = CallerFormat.of(ApiFormat.ANTHROPIC);

  @Test
  void everyApiFormatHasItsCallerFormat() {
    for (ApiFormat f : ApiFormat.values()) {
      assertThat(CallerFormat.of(f).api()).isEqualTo(f);
    }
    assertThat(OPENAI.label()).isEqualTo("openai");
    assertThat(ANTHROPIC.label()).isEqualTo("anthropic");
  }

  @Test
  void errorBodiesInEachFormat() {
    ObjectNode openAi = OPENAI.errorBody(ErrorKind.RATE_LIMITED, "slow down");
    assertThat(openAi.path("error").path("message").asText()).isEqualTo("slow down");
    assertThat(openAi.path("error").path("code").asText()).isEqualTo("rate_limited");
    assertThat(openAi.path("error").has("param")).isTrue();
    ObjectNode anthropic = ANTHROPIC.errorBody(ErrorKind.RATE_LIMITED, "slow down");
    assertThat(anthropic.path("type").asText()).isEqualTo("error");
    assertThat(anthropic.path("error").path("type").asText()).isEqualTo("rate_limit_error");
    assertThat(OPENAI.streamError(ErrorKind.UPSTREAM_STREAM_BROKEN, "broken"))
        .startsWith("data: {\"error\"");
    assertThat(ANTHROPIC.streamError(ErrorKind.UPSTREAM_STREAM_BROKEN, "broken"))
        .startsWith("event: error\n");
  }

  @Test
  void onlyOpenAiCallersAskForUsageInTheStreamAndTheSidecarsOwnUsageChunkIsHidden() {
    ObjectNode asks = Json.object();
    asks.putObject("stream_options").put("include_usage", true);
    assertThat(OPENAI.wantsStreamUsage(asks)).isTrue();
    assertThat(OPENAI.wantsStreamUsage(Json.object())).isFalse();
    assertThat(ANTHROPIC.wantsStreamUsage(asks)).isFalse();
    List<StreamEvent> usageChunk = List.of(new StreamEvent.UsageUpdate(1, 2, 0, 0));
    assertThat(OPENAI.hidesForwarded(usageChunk, false)).isTrue();
    assertThat(OPENAI.hidesForwarded(usageChunk, true)).isFalse();
    assertThat(ANTHROPIC.hidesForwarded(usageChunk, false)).isFalse();
  }

  @Test
  void anthropicCallersApiVersionAndBetasTravelWithAForwardedBody() {
    assertThat(ANTHROPIC.forwardedHeaders()).containsExactly("anthropic-version", "anthropic-beta");
    assertThat(ANTHROPIC.answerVaryingHeader()).isEqualTo("anthropic-beta");
    assertThat(OPENAI.forwardedHeaders()).isEmpty();
    assertThat(OPENAI.answerVaryingHeader()).isNull();
  }

  @Test
  void answersAndFinishReasonsAreWrittenInTheCallersFormat() {
    ChatResponse r =
        new ChatResponse(
            "id1",
            "m",
            List.of(new ChatRequest.Text("hi")),
            FinishReason.LENGTH,
            new Usage(3, 1, 0, 0));
    assertThat(OPENAI.renderResponse(r).path("object").asText()).isEqualTo("chat.completion");
    assertThat(ANTHROPIC.renderResponse(r).path("type").asText()).isEqualTo("message");
    assertThat(OPENAI.finishReason(FinishReason.LENGTH)).isEqualTo("length");
    assertThat(ANTHROPIC.finishReason(FinishReason.LENGTH)).isEqualTo("max_tokens");
    String text =
        OPENAI
            .parseRequest(
                Json.object()
                    .put("model", "m")
                    .set(
                        "messages",
                        Json.MAPPER
                            .createArrayNode()
                            .add(Json.object().put("role", "user").put("content", "q"))))
            .messages()
            .get(0)
            .toString();
    assertThat(text).contains("q");
  }
}
