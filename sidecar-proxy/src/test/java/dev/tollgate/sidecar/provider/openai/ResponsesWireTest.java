package dev.tollgate.sidecar.provider.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Responses codec: requests read for translation, streams written and read. */
class ResponsesWireTest {
  private static JsonNode json(String s) {
    return Json.parseOrNull(s);
  }

  @Test
  void inputItemsBecomeTheNeutralConversation() {
    ChatRequest r =
        ResponsesWire.parseRequest(
            json(
                """
                {"model":"m","instructions":"Be brief.","max_output_tokens":40,
                 "input":[
                   {"role":"developer","content":"Use metric units."},
                   {"role":"user","content":[{"type":"input_text","text":"Weather?"}]},
                   {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
                   {"type":"function_call","call_id":"c1","name":"weather","arguments":"{}"},
                   {"type":"function_call_output","call_id":"c1","output":"sunny"}],
                 "tools":[{"type":"function","name":"weather","parameters":{"type":"object"}}],
                 "tool_choice":"required"}
                """));
    assertThat(r.system()).isEqualTo("Be brief.\\n\\nUse metric units.".replace("\\n", "\n"));
    assertThat(r.maxTokens()).isEqualTo(40);
    assertThat(r.messages())
        .extracting(ChatRequest.Message::role)
        .containsExactly(ChatRequest.Role.USER, ChatRequest.Role.ASSISTANT, ChatRequest.Role.TOOL);
    assertThat(r.messages().get(1).parts())
        .containsExactly(
            new ChatRequest.Text("Checking."), new ChatRequest.ToolCall("c1", "weather", "{}"));
    assertThat(r.messages().get(2).parts())
        .containsExactly(new ChatRequest.ToolResult("c1", "sunny", false));
    assertThat(r.tools()).extracting(ChatRequest.Tool::name).containsExactly("weather");
    assertThat(r.toolChoice().mode()).isEqualTo(ChatRequest.ToolChoice.Mode.ANY);
  }

  @Test
  void whatOnlyOpenAiServesIsRefusedByName() {
    assertThatThrownBy(
            () ->
                ResponsesWire.parseRequest(
                    json("{\"input\":\"hi\",\"previous_response_id\":\"resp_1\"}")))
        .isInstanceOf(ProxyException.class)
        .hasMessageContaining("previous_response_id");
    assertThatThrownBy(
            () ->
                ResponsesWire.parseRequest(
                    json("{\"input\":\"hi\",\"tools\":[{\"type\":\"file_search\"}]}")))
        .hasMessageContaining("built-in tool 'file_search'");
    assertThatThrownBy(
            () ->
                ResponsesWire.parseRequest(
                    json(
                        "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\"}]}]}")))
        .hasMessageContaining("input_image");
  }

  @Test
  void aTranslatedStreamIsWrittenAsResponsesEvents() {
    ResponsesWire.Encoder e = new ResponsesWire.Encoder();
    StringBuilder sse = new StringBuilder();
    for (StreamEvent ev :
        List.of(
            new StreamEvent.Start("msg_1", "claude"),
            new StreamEvent.UsageUpdate(10, -1, 0, 0),
            new StreamEvent.TextDelta("Hel"),
            new StreamEvent.TextDelta("lo"),
            new StreamEvent.ToolCallStart(0, "toolu_1", "weather"),
            new StreamEvent.ToolArgsDelta(0, "{}"),
            new StreamEvent.UsageUpdate(-1, 5, -1, -1),
            new StreamEvent.Finish(FinishReason.TOOL_CALLS),
            new StreamEvent.End())) {
      sse.append(e.encode(ev));
    }
    List<String> types = new ArrayList<>();
    JsonNode completed = null;
    for (String block : sse.toString().split("\n\n")) {
      JsonNode data = json(block.substring(block.indexOf("data: ") + 6));
      types.add(data.path("type").asText());
      assertThat(data.path("sequence_number").asInt()).isEqualTo(types.size() - 1);
      if ("response.completed".equals(data.path("type").asText())) {
        completed = data.path("response");
      }
    }
    assertThat(types)
        .containsExactly(
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed");
    assertThat(completed.at("/output/0/content/0/text").asText()).isEqualTo("Hello");
    assertThat(completed.at("/output/1/call_id").asText()).isEqualTo("toolu_1");
    assertThat(completed.at("/usage/input_tokens").asInt()).isEqualTo(10);
    assertThat(completed.at("/usage/output_tokens").asInt()).isEqualTo(5);
  }

  @Test
  void openAisStreamIsReadForUsageFromResponseCompleted() {
    ResponsesWire.Decoder d = new ResponsesWire.Decoder();
    List<StreamEvent> events = new ArrayList<>();
    events.addAll(
        d.onEvent(
            "response.created",
            "{\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt\"}}"));
    events.addAll(
        d.onEvent(
            "response.output_text.delta",
            "{\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}"));
    events.addAll(
        d.onEvent(
            "response.completed",
            "{\"type\":\"response.completed\",\"response\":{\"status\":\"completed\","
                + "\"usage\":{\"input_tokens\":120,\"input_tokens_details\":{\"cached_tokens\":20},"
                + "\"output_tokens\":7}}}"));
    assertThat(events)
        .containsExactly(
            new StreamEvent.Start("resp_1", "gpt"),
            new StreamEvent.TextDelta("hi"),
            new StreamEvent.UsageUpdate(100, 7, 20, 0),
            new StreamEvent.Finish(FinishReason.STOP),
            new StreamEvent.End());
    assertThat(d.onEndOfBody()).isEmpty();
  }
}
