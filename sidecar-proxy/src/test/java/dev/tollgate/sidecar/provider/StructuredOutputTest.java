package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.StructuredOutput;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.bedrock.BedrockWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Structured output across formats (issue #20): OpenAI's {@code response_format} (json_object,
 * json_schema) to Anthropic and Bedrock as a forced tool whose call is read back as the answer's
 * text, to Gemini as {@code responseMimeType}/{@code responseSchema}; Anthropic's {@code
 * output_format} to OpenAI. Before, these requests were refused with a 400.
 */
class StructuredOutputTest {
  private static final String SCHEMA_REQUEST =
      """
      {"model":"r","seed":7,"messages":[{"role":"user","content":"Extract the event."}],
       "response_format":{"type":"json_schema","json_schema":{"name":"calendar_event","strict":true,
         "schema":{"type":"object","properties":{"name":{"type":"string"},"date":{"type":"string"}},
           "required":["name","date"],"additionalProperties":false}}}}
      """;

  @Test
  void openAiJsonSchemaToAnthropicIsAForcedToolReadBackAsText() {
    ChatRequest r = OpenAiWire.parseRequest(Json.parseOrNull(SCHEMA_REQUEST));
    JsonNode a = AnthropicWire.encodeRequest(r, "claude");
    assertThat(a.at("/tools/0/name").asText()).isEqualTo(StructuredOutput.TOOL);
    assertThat(a.at("/tools/0/input_schema/required/1").asText()).isEqualTo("date");
    assertThat(a.at("/tool_choice/type").asText()).isEqualTo("tool");
    assertThat(a.at("/tool_choice/name").asText()).isEqualTo(StructuredOutput.TOOL);
    assertThat(a.has("seed")).as("Messages has no seed: dropped").isFalse();

    ChatResponse answer =
        AnthropicWire.decodeResponse(
            Json.parseOrNull(
                """
                {"id":"msg_1","type":"message","role":"assistant","model":"claude",
                 "content":[{"type":"tool_use","id":"toolu_1","name":"tollgate_structured_output",
                   "input":{"name":"Science fair","date":"Friday"}}],
                 "stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5}}
                """));
    JsonNode o = OpenAiWire.renderResponse(answer);
    assertThat(Json.parseOrNull(o.at("/choices/0/message/content").asText()).path("date").asText())
        .isEqualTo("Friday");
    assertThat(o.at("/choices/0/message").has("tool_calls")).isFalse();
    assertThat(o.at("/choices/0/finish_reason").asText()).isEqualTo("stop");
  }

  @Test
  void aStreamedStructuredAnswerFromAnthropicIsStreamedAsText() {
    AnthropicWire.Decoder d = new AnthropicWire.Decoder();
    List<StreamEvent> events = new ArrayList<>();
    for (String data :
        List.of(
            "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}",
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"tollgate_structured_output\",\"input\":{}}}",
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"name\\\": \\\"Sci\"}}",
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"ence fair\\\"}\"}}",
            "{\"type\":\"content_block_stop\",\"index\":0}",
            "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}",
            "{\"type\":\"message_stop\"}")) {
      events.addAll(d.onEvent(null, data));
    }
    StringBuilder text = new StringBuilder();
    events.stream()
        .filter(StreamEvent.TextDelta.class::isInstance)
        .forEach(e -> text.append(((StreamEvent.TextDelta) e).text()));
    assertThat(Json.parseOrNull(text.toString()).path("name").asText()).isEqualTo("Science fair");
    assertThat(events).noneMatch(StreamEvent.ToolCallStart.class::isInstance);
    assertThat(events).contains(new StreamEvent.Finish(FinishReason.STOP));
  }

  @Test
  void toGeminiAsResponseSchemaAndToBedrockAsAForcedTool() {
    ChatRequest r = OpenAiWire.parseRequest(Json.parseOrNull(SCHEMA_REQUEST));
    JsonNode g = GeminiWire.encodeRequest(r);
    assertThat(g.at("/generationConfig/responseMimeType").asText()).isEqualTo("application/json");
    assertThat(g.at("/generationConfig/responseSchema/properties/date/type").asText())
        .isEqualTo("string");
    assertThat(g.at("/generationConfig/responseSchema").has("additionalProperties")).isFalse();
    assertThat(g.at("/generationConfig/seed").asLong()).isEqualTo(7);

    JsonNode b = BedrockWire.encodeRequest(r);
    assertThat(b.at("/toolConfig/tools/0/toolSpec/name").asText()).isEqualTo(StructuredOutput.TOOL);
    assertThat(b.at("/toolConfig/tools/0/toolSpec/inputSchema/json/required/0").asText())
        .isEqualTo("name");
    assertThat(b.at("/toolConfig/toolChoice/tool/name").asText()).isEqualTo(StructuredOutput.TOOL);
    ChatResponse answer =
        BedrockWire.decodeResponse(
            Json.parseOrNull(
                """
                {"output":{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"t1",
                  "name":"tollgate_structured_output","input":{"name":"Fair","date":"Fri"}}}]}},
                 "stopReason":"tool_use","usage":{"inputTokens":3,"outputTokens":4}}
                """),
            "m");
    assertThat(Json.parseOrNull(answer.text()).path("name").asText()).isEqualTo("Fair");
    assertThat(answer.finish()).isEqualTo(FinishReason.STOP);
  }

  @Test
  void jsonObjectAndAnthropicOutputFormatToOpenAi() {
    ChatRequest obj =
        OpenAiWire.parseRequest(
            Json.parseOrNull(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"JSON please\"}],\"response_format\":{\"type\":\"json_object\"}}"));
    JsonNode a = AnthropicWire.encodeRequest(obj, "claude");
    assertThat(a.at("/tools/0/input_schema/type").asText()).isEqualTo("object");
    assertThat(GeminiWire.encodeRequest(obj).at("/generationConfig/responseMimeType").asText())
        .isEqualTo("application/json");

    ChatRequest r =
        AnthropicWire.parseRequest(
            Json.parseOrNull(
                """
                {"model":"r","max_tokens":100,"messages":[{"role":"user","content":"Extract."}],
                 "output_format":{"type":"json_schema","schema":{"type":"object",
                   "properties":{"email":{"type":"string"}},"required":["email"]}}}
                """));
    JsonNode o = OpenAiWire.encodeRequest(r, "gpt-4o");
    assertThat(o.at("/response_format/type").asText()).isEqualTo("json_schema");
    assertThat(o.at("/response_format/json_schema/name").asText()).isEqualTo("response");
    assertThat(o.at("/response_format/json_schema/schema/required/0").asText()).isEqualTo("email");
    assertThat(o.at("/response_format/json_schema/strict").asBoolean()).isTrue();
  }

  @Test
  void parallelToolCallsAndSeedCross() {
    ChatRequest r =
        OpenAiWire.parseRequest(
            Json.parseOrNull(
                """
                {"messages":[{"role":"user","content":"hi"}],"seed":42,"parallel_tool_calls":false,
                 "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}
                """));
    JsonNode a = AnthropicWire.encodeRequest(r, "claude");
    assertThat(a.at("/tool_choice/type").asText()).isEqualTo("auto");
    assertThat(a.at("/tool_choice/disable_parallel_tool_use").asBoolean()).isTrue();
    ChatRequest back = AnthropicWire.parseRequest(a);
    assertThat(back.parallelToolCalls()).isFalse();
    JsonNode o = OpenAiWire.encodeRequest(back, "gpt-4o");
    assertThat(o.path("parallel_tool_calls").asBoolean(true)).isFalse();
    assertThat(OpenAiWire.encodeRequest(r, "gpt-4o").path("seed").asLong()).isEqualTo(42);
  }
}
