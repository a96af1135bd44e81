package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.responses.EasyInputMessage;
import com.openai.models.responses.FunctionTool;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCompletedEvent;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseStreamEvent;
import com.openai.models.responses.ResponseUsage;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.simulator.RecordedRequest;
import dev.tollgate.simulator.SimulatorBehavior;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/responses} through the official OpenAI SDK, streamed and not: forwarded as sent
 * to an OpenAI target, translated to Anthropic's Messages API for a Claude target (text,
 * instructions, multi-turn items, function tools and their outputs), metered exactly, and refused
 * with a 400 for what only OpenAI serves.
 */
class ResponsesIT {
  private static TestBed bed;
  private static OpenAIClient client;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
    client = SdkClients.openAi(bed.sidecar.baseUrl(), "app-key-never-forwarded");
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

  private static ResponseCreateParams.Builder params(String route) {
    return ResponseCreateParams.builder()
        .model(route)
        .instructions("You are terse.")
        .input("Say something.")
        .maxOutputTokens(50);
  }

  private static String text(Response r) {
    StringBuilder sb = new StringBuilder();
    for (ResponseOutputItem item : r.output()) {
      item.message()
          .ifPresent(
              m -> m.content().forEach(c -> c.outputText().ifPresent(t -> sb.append(t.text()))));
    }
    return sb.toString();
  }

  private static String stream(ResponseCreateParams p, AtomicReference<Response> completed) {
    StringBuilder sb = new StringBuilder();
    try (StreamResponse<ResponseStreamEvent> s = client.responses().createStreaming(p)) {
      s.stream()
          .forEach(
              e -> {
                e.outputTextDelta().ifPresent(d -> sb.append(d.delta()));
                e.completed().map(ResponseCompletedEvent::response).ifPresent(completed::set);
              });
    }
    return sb.toString();
  }

  private static BigDecimal cost(String route, String credential, String model) {
    UsageLedger.Totals t =
        bed.sidecar.ledger().snapshot().get(new UsageLedger.Key(route, "main", credential, model));
    return t == null ? BigDecimal.ZERO : t.costUsd();
  }

  @Test
  void openAiTargetIsForwardedAsSentWithItsKeyAndMeteredFromTheUsage() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 8, 200, 0));
    BigDecimal before = cost("oa", "openai", "gpt-4o-mini");

    Response r = client.responses().create(params("oa").build());

    assertThat(text(r)).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    ResponseUsage u = r.usage().orElseThrow();
    assertThat(u.inputTokens()).isEqualTo(1200);
    assertThat(u.inputTokensDetails().cachedTokens()).isEqualTo(200);
    assertThat(u.outputTokens()).isEqualTo(8);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1/responses");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + TestBed.OPENAI_KEY);
    assertThat(up.body().path("model").asText()).isEqualTo("gpt-4o-mini");
    assertThat(up.body().path("instructions").asText()).isEqualTo("You are terse.");
    // gpt-4o-mini: 1,000 input tokens x $0.15/M, the 200 cached x $0.075/M, 8 output x $0.60/M
    assertThat(cost("oa", "openai", "gpt-4o-mini").subtract(before))
        .isEqualByComparingTo(new BigDecimal("0.0001698"));
  }

  @Test
  void openAiTargetStreamsAsSentAndIsMeteredFromResponseCompleted() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 8, 0, 0));
    BigDecimal before = cost("oa", "openai", "gpt-4o-mini");
    AtomicReference<Response> completed = new AtomicReference<>();

    String text = stream(params("oa").build(), completed);

    assertThat(text).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(completed.get().usage().orElseThrow().outputTokens()).isEqualTo(8);
    assertThat(bed.sim.lastRequest().body().path("stream").asBoolean()).isTrue();
    // 1,000 x $0.15/M + 8 x $0.60/M
    assertThat(cost("oa", "openai", "gpt-4o-mini").subtract(before))
        .isEqualByComparingTo(new BigDecimal("0.0001548"));
  }

  @Test
  void claudeTargetIsTranslatedToMessagesAndBack() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 8, 0, 0));
    BigDecimal before = cost("an", "anthropic", "claude-3-5-sonnet-20241022");

    Response r = client.responses().create(params("an").build());

    assertThat(text(r)).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(r.id()).startsWith("resp_");
    assertThat(r.usage().orElseThrow().inputTokens()).isEqualTo(1000);
    assertThat(r.usage().orElseThrow().outputTokens()).isEqualTo(8);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1/messages");
    assertThat(up.header("x-api-key")).isEqualTo(TestBed.ANTHROPIC_KEY);
    assertThat(up.header("authorization")).isNull();
    assertThat(up.body().path("model").asText()).isEqualTo("claude-3-5-sonnet-20241022");
    assertThat(up.body().path("system").toString()).contains("You are terse.");
    assertThat(up.body().path("max_tokens").asInt()).isEqualTo(50);
    assertThat(up.body().at("/messages/0/role").asText()).isEqualTo("user");
    // claude-3-5-sonnet: 1,000 x $3/M + 8 x $15/M
    assertThat(cost("an", "anthropic", "claude-3-5-sonnet-20241022").subtract(before))
        .isEqualByComparingTo(new BigDecimal("0.00312"));
  }

  @Test
  void claudeTargetStreamsResponsesEvents() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 8, 0, 0));
    BigDecimal before = cost("an", "anthropic", "claude-3-5-sonnet-20241022");
    AtomicReference<Response> completed = new AtomicReference<>();

    String text = stream(params("an").build(), completed);

    assertThat(text).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(text(completed.get())).isEqualTo(text);
    assertThat(completed.get().usage().orElseThrow().inputTokens()).isEqualTo(1000);
    assertThat(completed.get().usage().orElseThrow().outputTokens()).isEqualTo(8);
    assertThat(bed.sim.lastRequest().uri()).isEqualTo("/v1/messages");
    assertThat(cost("an", "anthropic", "claude-3-5-sonnet-20241022").subtract(before))
        .isEqualByComparingTo(new BigDecimal("0.00312"));
  }

  @Test
  void claudeTargetTranslatesFunctionToolsCallsAndOutputs() {
    bed.sim.behavior(
        SimulatorBehavior.defaults()
            .withUsage(500, 12, 0, 0)
            .withToolCall("get_weather", "{\"city\":\"Paris\"}"));
    FunctionTool weather =
        FunctionTool.builder()
            .name("get_weather")
            .description("The weather in a city")
            .strict(false)
            .parameters(
                FunctionTool.Parameters.builder()
                    .putAdditionalProperty("type", JsonValue.from("object"))
                    .build())
            .build();
    List<ResponseInputItem> input = new ArrayList<>();
    input.add(
        ResponseInputItem.ofEasyInputMessage(
            EasyInputMessage.builder()
                .role(EasyInputMessage.Role.USER)
                .content("Weather in Rome, then Paris?")
                .build()));
    input.add(
        ResponseInputItem.ofFunctionCall(
            ResponseFunctionToolCall.builder()
                .callId("call_rome")
                .name("get_weather")
                .arguments("{\"city\":\"Rome\"}")
                .build()));
    input.add(
        ResponseInputItem.ofFunctionCallOutput(
            ResponseInputItem.FunctionCallOutput.builder()
                .callId("call_rome")
                .output("sunny, 24C")
                .build()));

    Response r =
        client
            .responses()
            .create(
                ResponseCreateParams.builder()
                    .model("an")
                    .inputOfResponse(input)
                    .addTool(weather)
                    .build());

    ResponseFunctionToolCall call =
        r.output().stream().flatMap(i -> i.functionCall().stream()).findFirst().orElseThrow();
    assertThat(call.name()).isEqualTo("get_weather");
    assertThat(call.arguments()).isEqualTo("{\"city\":\"Paris\"}");
    JsonNode up = bed.sim.lastRequest().body();
    assertThat(up.at("/tools/0/name").asText()).isEqualTo("get_weather");
    assertThat(up.at("/messages/1/role").asText()).isEqualTo("assistant");
    assertThat(up.at("/messages/1/content/0/type").asText()).isEqualTo("tool_use");
    assertThat(up.at("/messages/1/content/0/id").asText()).isEqualTo("call_rome");
    assertThat(up.at("/messages/2/content/0/type").asText()).isEqualTo("tool_result");
    assertThat(up.at("/messages/2/content/0/tool_use_id").asText()).isEqualTo("call_rome");
  }

  @Test
  void previousResponseIdOnAClaudeTargetIsA400InResponsesFormat() {
    assertThatThrownBy(
            () -> client.responses().create(params("an").previousResponseId("resp_123").build()))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("previous_response_id")
        .hasMessageContaining("only OpenAI-format targets serve it");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void builtInToolsOnAClaudeTargetAreA400ButReachAnOpenAiTarget() throws Exception {
    String body = "{\"model\":\"%s\",\"input\":\"news?\",\"tools\":[{\"type\":\"web_search\"}]}";
    HttpResponse<String> refused = bed.post("/v1/responses", body.formatted("an"));
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(Json.parseOrNull(refused.body()).at("/error/message").asText())
        .contains("the built-in tool 'web_search'");

    HttpResponse<String> forwarded = bed.post("/v1/responses", body.formatted("oa"));
    assertThat(forwarded.statusCode()).isEqualTo(200);
    assertThat(bed.sim.lastRequest().body().at("/tools/0/type").asText()).isEqualTo("web_search");
  }
}
