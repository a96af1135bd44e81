package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamTranslationTest {

  private static List<String> eventNames(String sse) {
    List<String> names = new ArrayList<>();
    sse.lines().filter(l -> l.startsWith("event: ")).forEach(l -> names.add(l.substring(7)));
    return names;
  }

  @Test
  void anthropicEncoderOpensAndClosesBlocksAroundTextAndToolCalls() {
    AnthropicWire.Encoder enc = new AnthropicWire.Encoder();
    StringBuilder out = new StringBuilder();
    for (StreamEvent e :
        List.of(
            new StreamEvent.Start("id1", "gpt-4o"),
            new StreamEvent.TextDelta("Let me check."),
            new StreamEvent.ToolCallStart(0, "call_1", "get_weather"),
            new StreamEvent.ToolArgsDelta(0, "{\"city\":"),
            new StreamEvent.ToolArgsDelta(0, "\"Paris\"}"),
            new StreamEvent.Finish(FinishReason.TOOL_CALLS),
            new StreamEvent.UsageUpdate(12, 7, 0, -1),
            new StreamEvent.End())) {
      out.append(enc.encode(e));
    }
    assertThat(eventNames(out.toString()))
        .containsExactly(
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop");
    assertThat(out.toString())
        .contains(
            "\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"call_1\",\"name\":\"get_weather\"")
        .contains("\"stop_reason\":\"tool_use\"")
        .contains("\"output_tokens\":7");
  }

  @Test
  void openAiDecoderThenAnthropicEncoderKeepsUsageFromTheFinalChunk() {
    OpenAiWire.Decoder dec = new OpenAiWire.Decoder();
    AnthropicWire.Encoder enc = new AnthropicWire.Encoder();
    StringBuilder out = new StringBuilder();
    for (String data :
        List.of(
            "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"}}]}",
            "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}",
            "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":10}}}",
            "[DONE]")) {
      dec.onEvent(null, data).forEach(e -> out.append(enc.encode(e)));
    }
    assertThat(out.toString())
        .contains("\"stop_reason\":\"max_tokens\"")
        .contains("\"input_tokens\":20")
        .contains("\"cache_read_input_tokens\":10")
        .endsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  }

  @Test
  void openAiEncoderAddsTheUsageChunkOnlyWhenAsked() {
    for (boolean include : List.of(true, false)) {
      OpenAiWire.Encoder enc = new OpenAiWire.Encoder(include);
      String out =
          enc.encode(new StreamEvent.Start("m1", "claude"))
              + enc.encode(new StreamEvent.TextDelta("x"))
              + enc.encode(new StreamEvent.UsageUpdate(5, 1, 0, 0))
              + enc.encode(new StreamEvent.Finish(FinishReason.STOP))
              + enc.encode(new StreamEvent.End());
      assertThat(out.contains("\"usage\"")).isEqualTo(include);
      assertThat(out).endsWith("data: [DONE]\n\n");
    }
  }
}
