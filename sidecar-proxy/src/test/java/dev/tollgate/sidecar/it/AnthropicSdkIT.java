package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.anthropic.client.AnthropicClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolUseBlock;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.simulator.SimulatorBehavior;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The official Anthropic Java SDK, pointed at the sidecar, served by each provider format. */
class AnthropicSdkIT {
  private static TestBed bed;
  private static AnthropicClient client;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
    client = SdkClients.anthropic(bed.sidecar.baseUrl(), "app-key-ignored");
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

  private static MessageCreateParams.Builder params(String route) {
    return MessageCreateParams.builder()
        .model(route)
        .system("You are terse.")
        .addUserMessage("Say something.")
        .maxTokens(50)
        .stopSequences(List.of("END"));
  }

  private static Message stream(MessageCreateParams p, List<String> types) {
    MessageAccumulator acc = MessageAccumulator.create();
    try (StreamResponse<RawMessageStreamEvent> s = client.messages().createStreaming(p)) {
      s.stream()
          .forEach(
              e -> {
                acc.accumulate(e);
                types.add(
                    e.isMessageStart()
                        ? "message_start"
                        : e.isContentBlockStart()
                            ? "content_block_start"
                            : e.isContentBlockDelta()
                                ? "content_block_delta"
                                : e.isContentBlockStop()
                                    ? "content_block_stop"
                                    : e.isMessageDelta() ? "message_delta" : "message_stop");
              });
    }
    return acc.message();
  }

  private static String text(Message m) {
    StringBuilder sb = new StringBuilder();
    m.content().forEach(b -> b.text().ifPresent(t -> sb.append(t.text())));
    return sb.toString();
  }

  @Test
  void anthropicRouteForwardsWithCacheUsage() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(100, 6, 800, 50));
    Message m = client.messages().create(params("an").build());

    assertThat(text(m)).isEqualTo("t0 t1 t2 t3 t4 t5");
    assertThat(m.usage().inputTokens()).isEqualTo(100);
    assertThat(m.usage().cacheReadInputTokens()).contains(800L);
    assertThat(m.usage().cacheCreationInputTokens()).contains(50L);
    assertThat(bed.sim.lastRequest().header("x-api-key")).isEqualTo(TestBed.ANTHROPIC_KEY);
    assertThat(bed.sim.lastRequest().body().path("model").asText())
        .isEqualTo("claude-3-5-sonnet-20241022");
  }

  @Test
  void anthropicRouteStreamsWithEveryEventType() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(100, 4, 800, 0));
    List<String> types = new ArrayList<>();
    Message m = stream(params("an").build(), types);

    assertThat(text(m)).isEqualTo("t0 t1 t2 t3");
    assertThat(types)
        .containsSubsequence(
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop");
    assertThat(m.usage().outputTokens()).isEqualTo(4);
    assertThat(m.usage().cacheReadInputTokens()).contains(800L);
  }

  @Test
  void openAiServesAnAnthropicCaller() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(120, 5, 20, 0));
    Message m = client.messages().create(params("oa").build());

    assertThat(text(m)).isEqualTo("t0 t1 t2 t3 t4");
    assertThat(m.stopReason()).contains(StopReason.END_TURN);
    assertThat(m.usage().inputTokens()).isEqualTo(120);
    assertThat(m.usage().cacheReadInputTokens()).contains(20L);
    JsonNode up = bed.sim.lastRequest().body();
    assertThat(up.at("/messages/0/role").asText()).isEqualTo("system");
    assertThat(up.at("/messages/0/content").asText()).isEqualTo("You are terse.");
    assertThat(up.at("/messages/1/content").asText()).isEqualTo("Say something.");
    assertThat(up.path("stop").get(0).asText()).isEqualTo("END");
    assertThat(up.path("max_tokens").asInt()).isEqualTo(50);
  }

  @Test
  void openAiStreamsToAnAnthropicCaller() {
    List<String> types = new ArrayList<>();
    Message m = stream(params("oa").build(), types);

    assertThat(text(m)).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(types)
        .containsSubsequence(
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop");
    assertThat(m.usage().outputTokens()).isEqualTo(8);
    assertThat(m.stopReason()).contains(StopReason.END_TURN);
  }

  @Test
  void maxTokensStopIsTranslated() {
    Message m = client.messages().create(params("oa").maxTokens(3).build());
    assertThat(m.stopReason()).contains(StopReason.MAX_TOKENS);
    assertThat(text(m)).isEqualTo("t0 t1 t2");
  }

  @Test
  void geminiServesAnAnthropicCallerStreamingAndNot() {
    assertThat(text(client.messages().create(params("ge").build())))
        .isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    Message m = stream(params("ge").build(), new ArrayList<>());
    assertThat(text(m)).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(m.usage().outputTokens()).isEqualTo(8);
  }

  @Test
  void bedrockStreamsToAnAnthropicCaller() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(100, 5, 40, 20));
    List<String> types = new ArrayList<>();
    Message m = stream(params("br").build(), types);
    assertThat(text(m)).isEqualTo("t0 t1 t2 t3 t4");
    assertThat(types)
        .containsSubsequence(
            "message_start",
            "content_block_start",
            "content_block_delta",
            "message_delta",
            "message_stop");
    assertThat(m.usage().outputTokens()).isEqualTo(5);
    assertThat(m.usage().cacheReadInputTokens()).contains(40L);
    assertThat(m.usage().cacheCreationInputTokens()).contains(20L);
  }

  @Test
  void toolUseTranslatesFromOpenAiGeminiAndBedrock() {
    bed.sim.behavior(
        SimulatorBehavior.defaults().withToolCall("get_weather", "{\"city\":\"Paris\"}"));
    Tool tool =
        Tool.builder()
            .name("get_weather")
            .description("Weather of a city")
            .inputSchema(
                Tool.InputSchema.builder()
                    .properties(JsonValue.from(Map.of("city", Map.of("type", "string"))))
                    .build())
            .build();
    for (String route : List.of("oa", "br", "ge")) {
      Message m = client.messages().create(params(route).addTool(tool).build());
      ToolUseBlock use =
          m.content().stream().flatMap(b -> b.toolUse().stream()).findFirst().orElseThrow();
      assertThat(use.name()).isEqualTo("get_weather");
      assertThat(use._input().convert(Map.class)).isEqualTo(Map.of("city", "Paris"));
      assertThat(m.stopReason()).contains(StopReason.TOOL_USE);

      Message streamed = stream(params(route).addTool(tool).build(), new ArrayList<>());
      ToolUseBlock su =
          streamed.content().stream().flatMap(b -> b.toolUse().stream()).findFirst().orElseThrow();
      assertThat(su._input().convert(Map.class)).isEqualTo(Map.of("city", "Paris"));
    }
    assertThat(
            bed.sim
                .lastRequest()
                .body()
                .at("/tools/0/functionDeclarations/0/parameters/properties/city/type")
                .asText())
        .isEqualTo("string");
  }

  /** Issue #20: an image block and a tool result, sent by the official SDK, served by OpenAI. */
  @Test
  void imageThroughOpenAi() throws Exception {
    Message m =
        client
            .messages()
            .create(
                MessageCreateParams.builder()
                    .model("oa")
                    .maxTokens(50)
                    .addUserMessageOfContentBlockParams(
                        List.of(
                            com.anthropic.models.messages.ContentBlockParam.ofImage(
                                com.anthropic.models.messages.Base64ImageSource.builder()
                                    .mediaType(
                                        com.anthropic.models.messages.Base64ImageSource.MediaType
                                            .IMAGE_PNG)
                                    .data("iVBORw0KGgo=")
                                    .build()),
                            com.anthropic.models.messages.ContentBlockParam.ofImage(
                                com.anthropic.models.messages.UrlImageSource.builder()
                                    .url("https://example.com/cat.jpg")
                                    .build()),
                            com.anthropic.models.messages.ContentBlockParam.ofText(
                                "Which animals?")))
                    .build());
    assertThat(m.content()).isNotEmpty();
    JsonNode sent = bed.sim.lastRequest().body();
    assertThat(sent.at("/messages/0/content/0/image_url/url").asText())
        .isEqualTo("data:image/png;base64,iVBORw0KGgo=");
    assertThat(sent.at("/messages/0/content/1/image_url/url").asText())
        .isEqualTo("https://example.com/cat.jpg");
    assertThat(sent.at("/messages/0/content/2/text").asText()).isEqualTo("Which animals?");
  }

  /**
   * Issue #20: the SDK sees Anthropic's own 400 for a translated request Anthropic would refuse.
   */
  @Test
  void aRequestAnthropicWouldRefuseIsRefusedTheSameWayWhenTranslated() {
    com.anthropic.errors.BadRequestException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            com.anthropic.errors.BadRequestException.class,
            () -> client.messages().create(params("oa").maxTokens(-3).build()));
    assertThat(e.statusCode()).isEqualTo(400);
    assertThat(e.getMessage()).contains("max_tokens: Input should be greater than or equal to 1");
    assertThat(bed.sim.stats().requests()).isZero();
  }
}
