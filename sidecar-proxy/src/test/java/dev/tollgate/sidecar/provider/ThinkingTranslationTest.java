package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.bedrock.BedrockWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Extended thinking across providers (issue #20): thinking blocks of earlier turns and their
 * signatures stay intact within the Claude family (Anthropic, Claude on Bedrock as {@code
 * reasoningContent}, Claude on Vertex AI) and are dropped cleanly for others. Before, a request
 * carrying them was refused with a 400 whenever it needed translation.
 */
class ThinkingTranslationTest {
  private static final String TURN =
      """
      {"model":"r","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},
       "messages":[
         {"role":"user","content":"Weather in Paris?"},
         {"role":"assistant","content":[
           {"type":"thinking","thinking":"I should call the tool.","signature":"EqQBCgIYAhIM1gbc"},
           {"type":"redacted_thinking","data":"EmwKAhgBEgy3va3p"},
           {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
         {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"18C"}]}],
       "tools":[{"name":"get_weather","input_schema":{"type":"object"}}]}
      """;

  @Test
  void signaturesCrossIntactToClaudeOnBedrockAndVertex() {
    ChatRequest r = AnthropicWire.parseRequest(Json.parseOrNull(TURN));
    JsonNode b = BedrockWire.encodeRequest(r, "anthropic.claude-3-7-sonnet-20250219-v1:0");
    JsonNode assistant = b.at("/messages/1/content");
    assertThat(assistant.at("/0/reasoningContent/reasoningText/text").asText())
        .isEqualTo("I should call the tool.");
    assertThat(assistant.at("/0/reasoningContent/reasoningText/signature").asText())
        .isEqualTo("EqQBCgIYAhIM1gbc");
    assertThat(assistant.at("/1/reasoningContent/redactedContent").asText())
        .isEqualTo("EmwKAhgBEgy3va3p");
    assertThat(assistant.at("/2/toolUse/toolUseId").asText()).isEqualTo("toolu_1");
    assertThat(b.at("/additionalModelRequestFields/thinking/budget_tokens").asInt())
        .isEqualTo(1024);

    // Claude on Vertex AI speaks Messages: the same blocks, byte for byte
    JsonNode v = AnthropicWire.encodeRequest(r, "claude-3-7-sonnet");
    assertThat(v.at("/messages/1/content/0/type").asText()).isEqualTo("thinking");
    assertThat(v.at("/messages/1/content/0/signature").asText()).isEqualTo("EqQBCgIYAhIM1gbc");
    assertThat(v.at("/messages/1/content/1/type").asText()).isEqualTo("redacted_thinking");
    assertThat(v.at("/thinking/budget_tokens").asInt()).isEqualTo(1024);
  }

  @Test
  void otherTargetsDropThinkingCleanly() {
    ChatRequest r = AnthropicWire.parseRequest(Json.parseOrNull(TURN));
    JsonNode nova = BedrockWire.encodeRequest(r, "amazon.nova-pro-v1:0");
    assertThat(nova.toString()).doesNotContain("reasoningContent").doesNotContain("thinking");
    assertThat(nova.at("/messages/1/content/0/toolUse/toolUseId").asText()).isEqualTo("toolu_1");

    JsonNode o = OpenAiWire.encodeRequest(r, "gpt-4o");
    assertThat(o.toString()).doesNotContain("EqQBCgIYAhIM1gbc").doesNotContain("thinking");
    assertThat(o.at("/messages/1/tool_calls/0/id").asText()).isEqualTo("toolu_1");
    assertThat(o.at("/messages/1/content").isNull()).isTrue();

    JsonNode g = GeminiWire.encodeRequest(r);
    assertThat(g.toString()).doesNotContain("EqQBCgIYAhIM1gbc");
    assertThat(g.at("/contents/1/parts/0/functionCall/name").asText()).isEqualTo("get_weather");
  }

  @Test
  void bedrockReasoningReachesAnAnthropicCallerWithItsSignatureAndNotAnOpenAiOne() {
    ChatResponse answer =
        BedrockWire.decodeResponse(
            Json.parseOrNull(
                """
                {"output":{"message":{"role":"assistant","content":[
                  {"reasoningContent":{"reasoningText":{"text":"Let me think.","signature":"sig-123"}}},
                  {"text":"It is 18C."}]}},
                 "stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":4}}
                """),
            "anthropic.claude-3-7-sonnet-20250219-v1:0");
    JsonNode a = AnthropicWire.renderResponse(answer);
    assertThat(a.at("/content/0/type").asText()).isEqualTo("thinking");
    assertThat(a.at("/content/0/thinking").asText()).isEqualTo("Let me think.");
    assertThat(a.at("/content/0/signature").asText()).isEqualTo("sig-123");
    assertThat(a.at("/content/1/text").asText()).isEqualTo("It is 18C.");
    JsonNode o = OpenAiWire.renderResponse(answer);
    assertThat(o.at("/choices/0/message/content").asText()).isEqualTo("It is 18C.");
  }

  @Test
  void gemini3GetsGooglesStandInSignatureOnAFailedOverToolCallAndGemini25None() {
    // the tool call came from Claude (the turn failed over): Gemini 3 refuses a model turn's
    // function call without a thought signature, so the first call of the turn gets Google's
    // documented stand-in; parallel calls after it need none
    String twoCalls =
        TURN.replace(
            "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}}]}",
            "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}},"
                + "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"get_weather\",\"input\":{\"city\":\"Rome\"}}]}");
    ChatRequest r = AnthropicWire.parseRequest(Json.parseOrNull(twoCalls));
    for (String model : List.of("gemini-3-pro-preview", "gemini-3.1-flash", "gemini-4-argon")) {
      JsonNode g = GeminiWire.encodeRequest(r, model);
      assertThat(g.at("/contents/1/parts/0/thoughtSignature").asText())
          .as(model)
          .isEqualTo("skip_thought_signature_validator");
      assertThat(g.at("/contents/1/parts/1/functionCall/args/city").asText()).isEqualTo("Rome");
      assertThat(g.at("/contents/1/parts/1/thoughtSignature").isMissingNode()).isTrue();
    }
    for (String model : List.of("gemini-2.5-flash", "gemini-2.0-flash-001")) {
      assertThat(GeminiWire.encodeRequest(r, model).toString())
          .as(model)
          .doesNotContain("thoughtSignature");
    }
  }
}
