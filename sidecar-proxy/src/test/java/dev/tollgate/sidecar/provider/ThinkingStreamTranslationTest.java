package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.anthropic.core.ObjectMappers;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.bedrock.BedrockWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.StreamDecoder;
import dev.tollgate.sidecar.wire.StreamEncoder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Extended thinking in streams (issue #20), from the providers' documented stream shapes: Anthropic
 * {@code thinking} / {@code redacted_thinking} blocks with {@code thinking_delta} and {@code
 * signature_delta}, Bedrock ConverseStream {@code reasoningContent} deltas ({@code text}, {@code
 * signature}, {@code redactedContent}), Gemini thought parts. An Anthropic caller gets the blocks
 * intact, checked by the official Anthropic SDK's own accumulator; an OpenAI caller gets none.
 */
class ThinkingStreamTranslationTest {

  /** Anthropic's streaming example with extended thinking, plus a redacted block. */
  private static final List<String[]> ANTHROPIC =
      List.of(
          ev(
              "message_start",
              "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}"),
          ev(
              "content_block_start",
              "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}"),
          ev(
              "content_block_delta",
              "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let me solve this step by step:\\n\\n1. First break down 27 * 453\"}}"),
          ev(
              "content_block_delta",
              "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"\\n2. 453 = 400 + 50 + 3\"}}"),
          ev(
              "content_block_delta",
              "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds\"}}"),
          ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"),
          ev(
              "content_block_start",
              "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"redacted_thinking\",\"data\":\"EmwKAhgBEgy3va3pzix\"}}"),
          ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"),
          ev(
              "content_block_start",
              "{\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
          ev(
              "content_block_delta",
              "{\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"text_delta\",\"text\":\"27 * 453 = 12,231\"}}"),
          ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":2}"),
          ev(
              "message_delta",
              "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":30}}"),
          ev("message_stop", "{\"type\":\"message_stop\"}"));

  /**
   * ConverseStream events of a Claude model thinking (the event-stream frames already unframed).
   */
  private static final List<String[]> BEDROCK =
      List.of(
          ev("messageStart", "{\"role\":\"assistant\"}"),
          ev(
              "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"text\":\"Let me solve this\"}}}"),
          ev(
              "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"text\":\" step by step.\"}}}"),
          ev(
              "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"signature\":\"ErcBCkgIAhABGAIiQMu\"}}}"),
          ev("contentBlockStop", "{\"contentBlockIndex\":0}"),
          ev(
              "contentBlockDelta",
              "{\"contentBlockIndex\":1,\"delta\":{\"reasoningContent\":{\"redactedContent\":\"EmwKAhgBEgy3va3p\"}}}"),
          ev("contentBlockStop", "{\"contentBlockIndex\":1}"),
          ev("contentBlockDelta", "{\"contentBlockIndex\":2,\"delta\":{\"text\":\"12,231\"}}"),
          ev("contentBlockStop", "{\"contentBlockIndex\":2}"),
          ev("messageStop", "{\"stopReason\":\"end_turn\"}"),
          ev(
              "metadata",
              "{\"usage\":{\"inputTokens\":12,\"outputTokens\":30,\"totalTokens\":42},\"metrics\":{\"latencyMs\":900}}"));

  private static String[] ev(String name, String data) {
    return new String[] {name, data};
  }

  private static List<StreamEvent> decode(StreamDecoder d, List<String[]> events) {
    List<StreamEvent> out = new ArrayList<>();
    for (String[] e : events) {
      out.addAll(d.onEvent(e[0], e[1]));
    }
    out.addAll(d.onEndOfBody());
    return out;
  }

  private static String encode(StreamEncoder enc, List<StreamEvent> events) {
    StringBuilder sb = new StringBuilder();
    events.forEach(e -> sb.append(enc.encode(e)));
    return sb.toString();
  }

  /** What the official Anthropic SDK assembles from the SSE text the caller receives. */
  static Message sdkMessage(String sse) {
    MessageAccumulator acc = MessageAccumulator.create();
    sse.lines()
        .filter(l -> l.startsWith("data: "))
        .forEach(
            l -> {
              try {
                acc.accumulate(
                    ObjectMappers.jsonMapper()
                        .readValue(l.substring(6), RawMessageStreamEvent.class));
              } catch (Exception e) {
                throw new AssertionError(l, e);
              }
            });
    return acc.message();
  }

  private static void assertThinkingThenRedactedThenText(
      Message m, String thinking, String signature, String redacted, String text) {
    List<ContentBlock> c = m.content();
    assertThat(c).hasSize(3);
    assertThat(c.get(0).thinking().orElseThrow().thinking()).isEqualTo(thinking);
    assertThat(c.get(0).thinking().orElseThrow().signature()).isEqualTo(signature);
    assertThat(c.get(1).redactedThinking().orElseThrow().data()).isEqualTo(redacted);
    assertThat(c.get(2).text().orElseThrow().text()).isEqualTo(text);
  }

  @Test
  void claudeOnVertexStreamReachesAnAnthropicCallerWithSignaturesIntact() {
    // Claude on Vertex AI streams Messages events; the sidecar decodes and re-encodes them
    String sse =
        encode(new AnthropicWire.Encoder(), decode(new AnthropicWire.Decoder(), ANTHROPIC));
    assertThinkingThenRedactedThenText(
        sdkMessage(sse),
        "Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3",
        "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
        "EmwKAhgBEgy3va3pzix",
        "27 * 453 = 12,231");
    assertThat(sse)
        .contains("\"type\":\"thinking_delta\"")
        .contains("\"type\":\"signature_delta\"");
  }

  @Test
  void bedrockClaudeReasoningDeltasBecomeAnthropicThinkingBlocks() {
    String sse =
        encode(
            new AnthropicWire.Encoder(),
            decode(new BedrockWire.Decoder("anthropic.claude-sonnet-4-5-v1:0"), BEDROCK));
    Message m = sdkMessage(sse);
    assertThinkingThenRedactedThenText(
        m, "Let me solve this step by step.", "ErcBCkgIAhABGAIiQMu", "EmwKAhgBEgy3va3p", "12,231");
    assertThat(m.usage().outputTokens()).isEqualTo(30);
  }

  @Test
  void anOpenAiCallerGetsTheAnswerWithoutThinking() {
    for (List<StreamEvent> events :
        List.of(
            decode(new AnthropicWire.Decoder(), ANTHROPIC),
            decode(new BedrockWire.Decoder("anthropic.claude-sonnet-4-5-v1:0"), BEDROCK))) {
      String sse = encode(new OpenAiWire.Encoder(true), events);
      assertThat(sse)
          .doesNotContain("step by step")
          .doesNotContain("EmwKAhgBEgy3va3p")
          .contains("12,231")
          .endsWith("data: [DONE]\n\n");
      assertThat(sse.split("data: \\[DONE\\]", -1)).hasSize(2); // one [DONE], at the end
    }
  }

  @Test
  void reasoningOfNonClaudeBedrockModelsHasNoSignatureAndIsDropped() {
    List<StreamEvent> events = decode(new BedrockWire.Decoder("deepseek.r1-v1:0"), BEDROCK);
    assertThat(events)
        .noneMatch(
            e ->
                e instanceof StreamEvent.ThinkingDelta
                    || e instanceof StreamEvent.ThinkingSignature
                    || e instanceof StreamEvent.RedactedThinking);
    Message m = sdkMessage(encode(new AnthropicWire.Encoder(), events));
    assertThat(m.content()).hasSize(1);
    assertThat(m.content().get(0).text().orElseThrow().text()).isEqualTo("12,231");
  }

  @Test
  void geminiThoughtPartsAreNeverAnswerText() {
    String thought =
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"**Planning** I will add.\",\"thought\":true}],\"role\":\"model\"}}],\"modelVersion\":\"gemini-2.5-flash\"}";
    String answer =
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"12,231\",\"thoughtSignature\":\"CiQB0e2Kb\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":3,\"thoughtsTokenCount\":40}}";
    List<StreamEvent> events =
        decode(new GeminiWire.Decoder(), List.of(ev(null, thought), ev(null, answer)));
    String sse = encode(new OpenAiWire.Encoder(true), events);
    assertThat(sse).doesNotContain("Planning").contains("12,231");
    // thinking tokens are billed as output
    assertThat(sse).contains("\"completion_tokens\":43");

    JsonNode whole =
        Json.parseOrNull(
            "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"**Planning** I will add.\",\"thought\":true},{\"text\":\"12,231\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}]}");
    assertThat(GeminiWire.decodeResponse(whole).text()).isEqualTo("12,231");
  }
}
