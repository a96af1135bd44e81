package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.ObjectMappers;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.bedrock.BedrockWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.InvalidRequest;
import dev.tollgate.sidecar.wire.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Log probabilities (issue #20): OpenAI chat {@code logprobs} / {@code top_logprobs} ↔ Gemini
 * {@code responseLogprobs} / {@code logprobs} and {@code logprobsResult}, whole and streamed, read
 * by the official OpenAI SDK; Anthropic and Bedrock have none, so such a request skips them.
 */
class LogprobsTranslationTest {
  private static final String ASK =
      "{\"model\":\"m\",\"logprobs\":true,\"top_logprobs\":2,"
          + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}]}";

  /** Gemini's documented logprobsResult shape. */
  private static final String GEMINI_ANSWER =
      """
      {"candidates":[{"content":{"parts":[{"text":"Hi there"}],"role":"model"},
        "finishReason":"STOP",
        "logprobsResult":{
          "topCandidates":[
            {"candidates":[{"token":"Hi","logProbability":-0.01},{"token":"Hello","logProbability":-4.7}]},
            {"candidates":[{"token":" there","logProbability":-0.2},{"token":"!","logProbability":-1.9}]}],
          "chosenCandidates":[{"token":"Hi","logProbability":-0.01},{"token":" there","logProbability":-0.2}]},
        "avgLogprobs":-0.105}],
       "usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2},"modelVersion":"gemini-2.5-flash"}
      """;

  @Test
  void openAiLogprobsBecomeGeminiResponseLogprobs() {
    ChatRequest r = OpenAiWire.parseRequest(Json.parseOrNull(ASK));
    JsonNode g = GeminiWire.encodeRequest(r, "gemini-2.5-flash");
    assertThat(g.at("/generationConfig/responseLogprobs").asBoolean()).isTrue();
    assertThat(g.at("/generationConfig/logprobs").asInt()).isEqualTo(2);
    JsonNode o = OpenAiWire.encodeRequest(r, "gpt-4o");
    assertThat(o.at("/logprobs").asBoolean()).isTrue();
    assertThat(o.at("/top_logprobs").asInt()).isEqualTo(2);
  }

  @Test
  void geminiLogprobsReachAnOpenAiCallerAsOpenAiShapesThem() {
    JsonNode body =
        OpenAiWire.renderResponse(GeminiWire.decodeResponse(Json.parseOrNull(GEMINI_ANSWER)));
    ChatCompletion c =
        ObjectMappers.jsonMapper().convertValue(body, ChatCompletion.class).validate();
    List<ChatCompletionTokenLogprob> tokens =
        c.choices().get(0).logprobs().orElseThrow().content().orElseThrow();
    assertThat(tokens)
        .extracting(ChatCompletionTokenLogprob::token)
        .containsExactly("Hi", " there");
    assertThat(tokens.get(0).logprob()).isEqualTo(-0.01);
    assertThat(tokens.get(0).topLogprobs())
        .extracting(t -> t.token())
        .containsExactly("Hi", "Hello");
    assertThat(tokens.get(1).bytes().orElseThrow())
        .containsExactly(32L, 116L, 104L, 101L, 114L, 101L);
  }

  @Test
  void streamedGeminiLogprobsRideOnTheirTextChunks() {
    GeminiWire.Decoder dec = new GeminiWire.Decoder();
    OpenAiWire.Encoder enc = new OpenAiWire.Encoder(true);
    List<StreamEvent> events = new ArrayList<>(dec.onEvent(null, GEMINI_ANSWER.replace("\n", "")));
    events.addAll(dec.onEndOfBody());
    StringBuilder sse = new StringBuilder();
    events.forEach(e -> sse.append(enc.encode(e)));
    ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
    List<ChatCompletionTokenLogprob> seen = new ArrayList<>();
    sse.toString()
        .lines()
        .filter(l -> l.startsWith("data: {"))
        .forEach(
            l -> {
              ChatCompletionChunk chunk;
              try {
                chunk =
                    ObjectMappers.jsonMapper().readValue(l.substring(6), ChatCompletionChunk.class);
              } catch (Exception e) {
                throw new AssertionError(l, e);
              }
              acc.accumulate(chunk);
              chunk.choices().stream()
                  .flatMap(ch -> ch.logprobs().stream())
                  .flatMap(lp -> lp.content().stream())
                  .forEach(seen::addAll);
            });
    assertThat(acc.chatCompletion().choices().get(0).message().content()).contains("Hi there");
    assertThat(seen).extracting(ChatCompletionTokenLogprob::token).containsExactly("Hi", " there");
  }

  @Test
  void targetsWithoutLogprobsAreSkippedForRequestsThatAskForThem() {
    ChatRequest asks = OpenAiWire.parseRequest(Json.parseOrNull(ASK));
    ChatRequest plain =
        OpenAiWire.parseRequest(
            Json.parseOrNull(
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
    assertThat(AnthropicWire.CAPABILITIES.missing(asks)).isEqualTo("logprobs");
    assertThat(BedrockWire.CAPABILITIES.missing(asks)).isEqualTo("logprobs");
    assertThat(GeminiWire.CAPABILITIES.missing(asks)).isNull();
    assertThat(OpenAiWire.CAPABILITIES.missing(asks)).isNull();
    assertThat(AnthropicWire.CAPABILITIES.missing(plain)).isNull();
  }

  @Test
  void topLogprobsWithoutLogprobsIsRefusedAsOpenAiRefusesIt() {
    assertThatThrownBy(
            () ->
                OpenAiWire.parseRequest(
                    Json.parseOrNull(
                        "{\"model\":\"m\",\"top_logprobs\":3,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")))
        .isInstanceOf(InvalidRequest.class)
        .satisfies(e -> assertThat(((InvalidRequest) e).param()).isEqualTo("top_logprobs"));
    assertThatThrownBy(
            () ->
                OpenAiWire.parseRequest(
                    Json.parseOrNull(
                        "{\"model\":\"m\",\"logprobs\":true,\"top_logprobs\":21,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")))
        .isInstanceOf(InvalidRequest.class);
  }
}
