package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.provider.openai.ResponsesWire;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import dev.tollgate.sidecar.wire.UsageAccumulator;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A stream relayed as sent is metered from {@link StreamDecoder#onMeteredEvent}, which scans the
 * text-only events instead of parsing them: the usage, finish reason, tool calls, start and text
 * length it reports are those of a full decode, for the streams each provider really sends.
 */
class MeteredStreamTest {

  /** What metering reads of a stream. */
  record Metered(
      String id, String usage, FinishReason finish, int toolCalls, long chars, int decoded) {}

  private static Metered meter(StreamDecoder d, List<String[]> events, boolean metered) {
    String id = null;
    UsageAccumulator usage = new UsageAccumulator();
    FinishReason finish = null;
    int tools = 0;
    long chars = 0;
    int delivered = 0;
    boolean ended = false;
    for (String[] ev : events) {
      for (StreamEvent e : metered ? d.onMeteredEvent(ev[0], ev[1]) : d.onEvent(ev[0], ev[1])) {
        if (e instanceof StreamEvent.Start s) {
          id = s.id();
        } else if (e instanceof StreamEvent.TextDelta t) {
          chars += t.text().length();
        } else if (e instanceof StreamEvent.Delivered t) {
          chars += t.chars();
          delivered++;
        } else if (e instanceof StreamEvent.UsageUpdate u) {
          usage.add(u);
        } else if (e instanceof StreamEvent.Finish f) {
          finish = f.reason();
        } else if (e instanceof StreamEvent.ToolCallStart) {
          tools++;
        } else if (e instanceof StreamEvent.End) {
          ended = true;
        }
      }
    }
    d.onEndOfBody();
    assertThat(ended).isTrue();
    return new Metered(
        id, usage.known() ? usage.usage().toString() : null, finish, tools, chars, delivered);
  }

  private static void sameMetering(Supplier<StreamDecoder> decoder, List<String[]> events) {
    Metered full = meter(decoder.get(), events, false);
    Metered scanned = meter(decoder.get(), events, true);
    assertThat(scanned).usingRecursiveComparison().ignoringFields("decoded").isEqualTo(full);
    assertThat(full.usage()).isNotNull();
    assertThat(scanned.decoded()).as("text events counted unparsed").isPositive();
  }

  private static String[] data(String json) {
    return new String[] {null, json};
  }

  private static String[] event(String name, String json) {
    return new String[] {name, json};
  }

  private static final String CHUNK =
      "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
          + "\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
          + "\"system_fingerprint\":\"fp_1\",\"choices\":[%s],\"usage\":%s,\"obfuscation\":\"aB\"}";

  private static String[] chunk(String choice, String usage) {
    return data(String.format(CHUNK, choice, usage));
  }

  @Test
  void openAiChatTextChunksAreCountedNotParsed() {
    List<String[]> stream =
        List.of(
            chunk(
                "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
                    + "\"logprobs\":null,\"finish_reason\":null}",
                "null"),
            chunk(
                "{\"index\":0,\"delta\":{\"content\":\"He said \\\"usage\\\": \\u00e9\\n\"},"
                    + "\"logprobs\":null,\"finish_reason\":null}",
                "null"),
            chunk(
                "{\"index\":0,\"delta\":{\"content\":\"\\\"finish_reason\\\":\\\"stop\\\" \uD83D\uDE00\"},"
                    + "\"logprobs\":null,\"finish_reason\":null}",
                "null"),
            chunk(
                "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
                    + "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]},"
                    + "\"logprobs\":null,\"finish_reason\":null}",
                "null"),
            chunk(
                "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\": \"tool_calls\"}",
                "null"),
            chunk(
                "",
                "{\"prompt_tokens\":19,\"completion_tokens\":10,\"total_tokens\":29,"
                    + "\"prompt_tokens_details\":{\"cached_tokens\":3,\"audio_tokens\":0}}"),
            data("[DONE]"));
    sameMetering(OpenAiWire.Decoder::new, stream);
    Metered m = meter(new OpenAiWire.Decoder(), stream, true);
    assertThat(m.chars())
        .isEqualTo(
            "He said \"usage\": é\n".length() + "\"finish_reason\":\"stop\" \uD83D\uDE00".length());
    assertThat(m.toolCalls()).isEqualTo(1);
    assertThat(m.finish()).isEqualTo(FinishReason.TOOL_CALLS);
  }

  @Test
  void openAiChatErrorMidStreamIsStillAnError() {
    StreamDecoder d = new OpenAiWire.Decoder();
    d.onMeteredEvent(null, String.format(CHUNK, "", "null"));
    assertThatThrownBy(
            () -> d.onMeteredEvent(null, "{\"error\":{\"message\":\"overloaded\",\"code\":null}}"))
        .isInstanceOf(ProxyException.class)
        .hasMessageContaining("overloaded");
  }

  @Test
  void anthropicTextAndThinkingDeltasAreCountedNotParsed() {
    sameMetering(
        AnthropicWire.Decoder::new,
        List.of(
            event(
                "message_start",
                "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
                    + "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],"
                    + "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,"
                    + "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":4,"
                    + "\"output_tokens\":1}}}"),
            event(
                "content_block_start",
                "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
                    + "{\"type\":\"thinking\",\"thinking\":\"\"}}"),
            event(
                "content_block_delta",
                "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
                    + "{\"type\":\"thinking_delta\",\"thinking\":\"Let me think\"}}"),
            event(
                "content_block_delta",
                "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
                    + "{\"type\":\"signature_delta\",\"signature\":\"EqQB\"}}"),
            event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"),
            event("ping", "{\"type\": \"ping\"}"),
            event(
                "content_block_start",
                "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
                    + "{\"type\":\"text\",\"text\":\"\"}}"),
            event(
                "content_block_delta",
                "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
                    + "{\"type\":\"text_delta\",\"text\":\"Hello \\\"text\\\": \\u4e16\"}}"),
            event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"),
            event(
                "content_block_start",
                "{\"type\":\"content_block_start\",\"index\":2,\"content_block\":"
                    + "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\","
                    + "\"input\":{}}}"),
            event(
                "content_block_delta",
                "{\"type\":\"content_block_delta\",\"index\":2,\"delta\":"
                    + "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":1}\"}}"),
            event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":2}"),
            event(
                "message_delta",
                "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
                    + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}"),
            event("message_stop", "{\"type\":\"message_stop\"}")));
  }

  @Test
  void responsesTextDeltasAreCountedNotParsed() {
    sameMetering(
        ResponsesWire.Decoder::new,
        List.of(
            event(
                "response.created",
                "{\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":"
                    + "\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":"
                    + "\"gpt-4.1\",\"output\":[],\"usage\":null}}"),
            event(
                "response.in_progress",
                "{\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":{\"id\":"
                    + "\"resp_1\",\"status\":\"in_progress\",\"usage\":null}}"),
            event(
                "response.output_item.added",
                "{\"type\":\"response.output_item.added\",\"sequence_number\":2,\"output_index\":0,"
                    + "\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"in_progress\","
                    + "\"content\":[],\"role\":\"assistant\"}}"),
            event(
                "response.output_text.delta",
                "{\"type\":\"response.output_text.delta\",\"sequence_number\":3,\"item_id\":"
                    + "\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi \\\"delta\\\"\","
                    + "\"logprobs\":[],\"obfuscation\":\"x\"}"),
            event(
                "response.output_text.done",
                "{\"type\":\"response.output_text.done\",\"sequence_number\":4,\"item_id\":"
                    + "\"msg_1\",\"output_index\":0,\"content_index\":0,\"text\":\"Hi \\\"delta\\\"\"}"),
            event(
                "response.output_item.added",
                "{\"type\":\"response.output_item.added\",\"sequence_number\":5,\"output_index\":1,"
                    + "\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\",\"status\":"
                    + "\"in_progress\",\"arguments\":\"\",\"call_id\":\"call_1\",\"name\":\"f\"}}"),
            event(
                "response.function_call_arguments.delta",
                "{\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":6,"
                    + "\"item_id\":\"fc_1\",\"output_index\":1,\"delta\":\"{}\"}"),
            event(
                "response.completed",
                "{\"type\":\"response.completed\",\"sequence_number\":7,\"response\":{\"id\":"
                    + "\"resp_1\",\"status\":\"completed\",\"model\":\"gpt-4.1\",\"output\":[{\"id\":"
                    + "\"fc_1\",\"type\":\"function_call\",\"call_id\":\"call_1\",\"name\":\"f\","
                    + "\"arguments\":\"{}\"}],\"usage\":{\"input_tokens\":36,\"input_tokens_details\":"
                    + "{\"cached_tokens\":0},\"output_tokens\":87,\"output_tokens_details\":"
                    + "{\"reasoning_tokens\":0},\"total_tokens\":123}}}")));
  }
}
