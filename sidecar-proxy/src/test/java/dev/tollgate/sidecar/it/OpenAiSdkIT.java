package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.simulator.RecordedRequest;
import dev.tollgate.simulator.SimulatorBehavior;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK, pointed at the sidecar, served by each provider format. */
class OpenAiSdkIT {
  private static TestBed bed;
  private static OpenAIClient client;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
    client = SdkClients.openAi(bed.sidecar.baseUrl(), "app-key-ignored");
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static ChatCompletionCreateParams.Builder params(String route) {
    return ChatCompletionCreateParams.builder()
        .model(route)
        .addSystemMessage("You are terse.")
        .addUserMessage("Say something.")
        .maxTokens(50)
        .temperature(0.2)
        .stop("END");
  }

  private static String streamText(
      StreamResponse<ChatCompletionChunk> s, List<ChatCompletionChunk> chunks) {
    StringBuilder sb = new StringBuilder();
    s.stream()
        .forEach(
            c -> {
              chunks.add(c);
              c.choices().forEach(ch -> ch.delta().content().ifPresent(sb::append));
            });
    return sb.toString();
  }

  @Test
  void openAiRouteNonStreamingForwardsAndMeters() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 8, 200, 0));
    BigDecimal before = bed.sidecar.ledger().total().costUsd();

    ChatCompletion c = client.chat().completions().create(params("oa").build());

    assertThat(c.choices().get(0).message().content()).contains("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(c.usage().orElseThrow().promptTokens()).isEqualTo(1200);
    assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(8);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1/chat/completions");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + TestBed.OPENAI_KEY);
    assertThat(up.body().path("model").asText()).isEqualTo("gpt-4o-mini");
    // gpt-4o-mini: 1,000 input tokens at $0.15/M, the 200 cached at $0.075/M, 8 output at $0.60/M
    BigDecimal expected = new BigDecimal("0.0001698");
    assertThat(bed.sidecar.ledger().total().costUsd().subtract(before))
        .isEqualByComparingTo(expected);
  }

  @Test
  void openAiRouteStreamingHidesTheUsageChunkTheCallerDidNotAskFor() {
    List<ChatCompletionChunk> chunks = new ArrayList<>();
    long outputBefore = bed.sidecar.ledger().total().outputTokens();
    String text;
    try (StreamResponse<ChatCompletionChunk> s =
        client.chat().completions().createStreaming(params("oa").build())) {
      text = streamText(s, chunks);
    }

    assertThat(text).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(chunks).allSatisfy(c -> assertThat(c.usage()).isEmpty());
    assertThat(bed.sim.lastRequest().body().at("/stream_options/include_usage").asBoolean())
        .isTrue();
    assertThat(bed.sidecar.ledger().total().outputTokens() - outputBefore).isEqualTo(8);
  }

  @Test
  void openAiRouteStreamingWithIncludeUsage() {
    List<ChatCompletionChunk> chunks = new ArrayList<>();
    try (StreamResponse<ChatCompletionChunk> s =
        client
            .chat()
            .completions()
            .createStreaming(
                params("oa")
                    .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                    .build())) {
      streamText(s, chunks);
    }
    assertThat(chunks.get(chunks.size() - 1).usage().orElseThrow().completionTokens()).isEqualTo(8);
  }

  @Test
  void anthropicServesAnOpenAiCaller() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(100, 5, 30, 10));
    ChatCompletion c = client.chat().completions().create(params("an").build());

    assertThat(c.choices().get(0).message().content()).contains("t0 t1 t2 t3 t4");
    assertThat(c.choices().get(0).finishReason().asString()).isEqualTo("stop");
    assertThat(c.usage().orElseThrow().promptTokens()).isEqualTo(140);
    assertThat(c.usage().orElseThrow().promptTokensDetails().orElseThrow().cachedTokens())
        .contains(30L);
    JsonNode up = bed.sim.lastRequest().body();
    assertThat(bed.sim.lastRequest().uri()).isEqualTo("/v1/messages");
    assertThat(bed.sim.lastRequest().header("x-api-key")).isEqualTo(TestBed.ANTHROPIC_KEY);
    assertThat(bed.sim.lastRequest().header("anthropic-version")).isEqualTo("2023-06-01");
    assertThat(up.path("model").asText()).isEqualTo("claude-3-5-sonnet-20241022");
    assertThat(up.path("system").asText()).isEqualTo("You are terse.");
    assertThat(up.path("max_tokens").asInt()).isEqualTo(50);
    assertThat(up.path("temperature").asDouble()).isEqualTo(0.2);
    assertThat(up.path("stop_sequences").get(0).asText()).isEqualTo("END");
    assertThat(up.at("/messages/0/role").asText()).isEqualTo("user");
    assertThat(up.at("/messages/0/content/0/text").asText()).isEqualTo("Say something.");
  }

  @Test
  void anthropicStreamsToAnOpenAiCaller() {
    List<ChatCompletionChunk> chunks = new ArrayList<>();
    String text;
    try (StreamResponse<ChatCompletionChunk> s =
        client
            .chat()
            .completions()
            .createStreaming(
                params("an")
                    .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                    .build())) {
      text = streamText(s, chunks);
    }
    assertThat(text).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(chunks)
        .anySatisfy(
            c ->
                assertThat(c.choices())
                    .anySatisfy(ch -> assertThat(ch.finishReason()).isPresent()));
    assertThat(chunks.get(chunks.size() - 1).usage().orElseThrow().completionTokens()).isEqualTo(8);
  }

  @Test
  void geminiServesAnOpenAiCallerStreamingAndNot() {
    ChatCompletion c = client.chat().completions().create(params("ge").build());
    assertThat(c.choices().get(0).message().content()).contains("t0 t1 t2 t3 t4 t5 t6 t7");
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1beta/models/gemini-1.5-flash:generateContent");
    assertThat(up.header("x-goog-api-key")).isEqualTo(TestBed.GEMINI_KEY);
    assertThat(up.body().at("/systemInstruction/parts/0/text").asText())
        .isEqualTo("You are terse.");
    assertThat(up.body().at("/generationConfig/maxOutputTokens").asInt()).isEqualTo(50);
    assertThat(up.body().at("/generationConfig/stopSequences/0").asText()).isEqualTo("END");

    List<ChatCompletionChunk> chunks = new ArrayList<>();
    try (StreamResponse<ChatCompletionChunk> s =
        client.chat().completions().createStreaming(params("ge").build())) {
      assertThat(streamText(s, chunks)).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    }
    assertThat(bed.sim.lastRequest().uri())
        .isEqualTo("/v1beta/models/gemini-1.5-flash:streamGenerateContent?alt=sse");
  }

  @Test
  void toolCallsTranslateBothWays() {
    bed.sim.behavior(
        SimulatorBehavior.defaults().withToolCall("get_weather", "{\"city\":\"Paris\"}"));
    ChatCompletionFunctionTool tool =
        ChatCompletionFunctionTool.builder()
            .function(
                FunctionDefinition.builder()
                    .name("get_weather")
                    .description("Weather of a city")
                    .parameters(
                        FunctionParameters.builder()
                            .putAdditionalProperty("type", JsonValue.from("object"))
                            .putAdditionalProperty(
                                "properties",
                                JsonValue.from(Map.of("city", Map.of("type", "string"))))
                            .build())
                    .build())
            .build();
    for (String route : List.of("an", "br", "ge")) {
      ChatCompletion c = client.chat().completions().create(params(route).addTool(tool).build());
      ChatCompletionMessageFunctionToolCall call =
          c.choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction();
      assertThat(call.function().name()).isEqualTo("get_weather");
      assertThat(call.function().arguments()).isEqualTo("{\"city\":\"Paris\"}");
      assertThat(c.choices().get(0).finishReason().asString()).isEqualTo("tool_calls");
    }
    assertThat(bed.sim.lastRequest().body().at("/tools/0/functionDeclarations/0/name").asText())
        .isEqualTo("get_weather");

    // streamed tool call, and the follow-up turn carrying the tool result
    StringBuilder args = new StringBuilder();
    List<String> names = new ArrayList<>();
    try (StreamResponse<ChatCompletionChunk> s =
        client.chat().completions().createStreaming(params("an").addTool(tool).build())) {
      s.stream()
          .forEach(
              ch ->
                  ch.choices()
                      .forEach(
                          choice ->
                              choice
                                  .delta()
                                  .toolCalls()
                                  .ifPresent(
                                      tcs ->
                                          tcs.forEach(
                                              tc -> {
                                                tc.function()
                                                    .flatMap(f -> f.name())
                                                    .ifPresent(names::add);
                                                tc.function()
                                                    .flatMap(f -> f.arguments())
                                                    .ifPresent(args::append);
                                              }))));
    }
    assertThat(names).containsExactly("get_weather");
    assertThat(args.toString()).isEqualTo("{\"city\":\"Paris\"}");

    bed.sim.behavior(SimulatorBehavior.defaults());
    ChatCompletionMessageToolCall previous =
        ChatCompletionMessageToolCall.ofFunction(
            ChatCompletionMessageFunctionToolCall.builder()
                .id("call_1")
                .function(
                    ChatCompletionMessageFunctionToolCall.Function.builder()
                        .name("get_weather")
                        .arguments("{\"city\":\"Paris\"}")
                        .build())
                .build());
    client
        .chat()
        .completions()
        .create(
            params("an")
                .addTool(tool)
                .addMessage(
                    ChatCompletionAssistantMessageParam.builder().addToolCall(previous).build())
                .addMessage(
                    ChatCompletionToolMessageParam.builder()
                        .toolCallId("call_1")
                        .content("sunny")
                        .build())
                .build());
    JsonNode msgs = bed.sim.lastRequest().body().path("messages");
    assertThat(msgs.get(1).path("role").asText()).isEqualTo("assistant");
    assertThat(msgs.get(1).at("/content/0/type").asText()).isEqualTo("tool_use");
    assertThat(msgs.get(1).at("/content/0/input/city").asText()).isEqualTo("Paris");
    assertThat(msgs.get(2).at("/content/0/type").asText()).isEqualTo("tool_result");
    assertThat(msgs.get(2).at("/content/0/tool_use_id").asText()).isEqualTo("call_1");
    assertThat(msgs.get(2).at("/content/0/content").asText()).isEqualTo("sunny");
  }

  @Test
  void bedrockServesAnOpenAiCallerStreamingAndNot() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(100, 8, 40, 20));
    UsageLedger.Key key =
        new UsageLedger.Key("br", "main", "bedrock", "anthropic.claude-3-haiku-20240307-v1:0");
    UsageLedger.Totals before = bed.sidecar.ledger().snapshot().get(key);
    BigDecimal costBefore = before == null ? BigDecimal.ZERO : before.costUsd();
    ChatCompletion c = client.chat().completions().create(params("br").build());
    assertThat(c.choices().get(0).message().content()).contains("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(c.usage().orElseThrow().promptTokens()).isEqualTo(160);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + TestBed.BEDROCK_KEY);
    assertThat(up.body().at("/system/0/text").asText()).isEqualTo("You are terse.");
    assertThat(up.body().at("/inferenceConfig/maxTokens").asInt()).isEqualTo(50);
    assertThat(up.body().at("/inferenceConfig/stopSequences/0").asText()).isEqualTo("END");
    assertThat(up.body().at("/messages/0/content/0/text").asText()).isEqualTo("Say something.");

    List<ChatCompletionChunk> chunks = new ArrayList<>();
    try (StreamResponse<ChatCompletionChunk> s =
        client
            .chat()
            .completions()
            .createStreaming(
                params("br")
                    .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                    .build())) {
      assertThat(streamText(s, chunks)).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    }
    assertThat(bed.sim.lastRequest().uri()).endsWith("/converse-stream");
    assertThat(chunks.get(chunks.size() - 1).usage().orElseThrow().completionTokens()).isEqualTo(8);
    // Bedrock's Claude ids are priced like Anthropic's; per call on Haiku:
    // 100*0.25 + 8*1.25 + 40*0.03 + 20*0.30 = 42.2 USD per million
    UsageLedger.Totals t = bed.sidecar.ledger().snapshot().get(key);
    assertThat(t.unpricedRequests()).isZero();
    assertThat(t.costUsd().subtract(costBefore)).isEqualByComparingTo(new BigDecimal("0.0000844"));
  }

  @Test
  void azureUsesItsDeploymentUrlAndApiKeyHeader() {
    client.chat().completions().create(params("az").build());
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri())
        .isEqualTo("/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21");
    assertThat(up.header("api-key")).isEqualTo(TestBed.OPENAI_KEY);
    assertThat(up.header("authorization")).isNull();
  }

  @Test
  void ledgerKeepsUsagePerRouteTierCredentialModel() {
    client.chat().completions().create(params("ge").build());
    UsageLedger.Totals t =
        bed.sidecar
            .ledger()
            .snapshot()
            .get(new UsageLedger.Key("ge", "main", "gemini", "gemini-1.5-flash"));
    assertThat(t.requests()).isPositive();
    assertThat(t.outputTokens()).isPositive();
    assertThat(t.costUsd()).isPositive();
  }

  /**
   * Issue #20: an image and a JSON schema answer, sent by the official SDK, served by Anthropic:
   * the image crosses as an image block, the schema as a forced tool whose call the SDK receives as
   * the message's JSON content.
   */
  @Test
  void imageAndJsonSchemaThroughAnthropic() throws Exception {
    bed.sim.behavior(
        SimulatorBehavior.defaults()
            .withToolCall("tollgate_structured_output", "{\"animal\":\"cat\"}"));
    ChatCompletionCreateParams p =
        ChatCompletionCreateParams.builder()
            .model("an")
            .maxTokens(50)
            .addUserMessageOfArrayOfContentParts(
                List.of(
                    com.openai.models.chat.completions.ChatCompletionContentPart.ofText(
                        com.openai.models.chat.completions.ChatCompletionContentPartText.builder()
                            .text("Which animal?")
                            .build()),
                    com.openai.models.chat.completions.ChatCompletionContentPart.ofImageUrl(
                        com.openai.models.chat.completions.ChatCompletionContentPartImage.builder()
                            .imageUrl(
                                com.openai.models.chat.completions.ChatCompletionContentPartImage
                                    .ImageUrl.builder()
                                    .url("data:image/png;base64,iVBORw0KGgo=")
                                    .build())
                            .build())))
            .responseFormat(
                com.openai.models.ResponseFormatJsonSchema.builder()
                    .jsonSchema(
                        com.openai.models.ResponseFormatJsonSchema.JsonSchema.builder()
                            .name("animal")
                            .schema(
                                com.openai.models.ResponseFormatJsonSchema.JsonSchema.Schema
                                    .builder()
                                    .putAdditionalProperty("type", JsonValue.from("object"))
                                    .putAdditionalProperty(
                                        "properties",
                                        JsonValue.from(Map.of("animal", Map.of("type", "string"))))
                                    .build())
                            .build())
                    .build())
            .build();
    ChatCompletion c = client.chat().completions().create(p);
    assertThat(c.choices().get(0).message().content()).hasValue("{\"animal\":\"cat\"}");
    assertThat(c.choices().get(0).message().toolCalls()).isEmpty();
    assertThat(c.choices().get(0).finishReason())
        .isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    JsonNode sent = bed.sim.lastRequest().body();
    assertThat(sent.at("/messages/0/content/1/type").asText()).isEqualTo("image");
    assertThat(sent.at("/messages/0/content/1/source/media_type").asText()).isEqualTo("image/png");
    assertThat(sent.at("/tool_choice/name").asText()).isEqualTo("tollgate_structured_output");
  }

  /** Issue #20: the SDK sees OpenAI's own 400 for a translated request OpenAI would refuse. */
  @Test
  void aRequestOpenAiWouldRefuseIsRefusedTheSameWayWhenTranslated() {
    com.openai.errors.BadRequestException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            com.openai.errors.BadRequestException.class,
            () -> client.chat().completions().create(params("an").maxTokens(-3).build()));
    assertThat(e.statusCode()).isEqualTo(400);
    assertThat(e.param()).hasValue("max_tokens");
    assertThat(e.code()).hasValue("integer_below_min_value");
    assertThat(bed.sim.stats().requests()).isZero();
  }
}
