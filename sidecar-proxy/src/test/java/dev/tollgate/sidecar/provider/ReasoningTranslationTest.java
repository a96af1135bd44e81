package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.bedrock.BedrockWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.InvalidRequest;
import dev.tollgate.sidecar.wire.Json;
import org.junit.jupiter.api.Test;

/**
 * OpenAI's {@code reasoning_effort} to Claude's {@code thinking.budget_tokens} (Anthropic, Bedrock,
 * Vertex AI) and Gemini's {@code thinkingConfig}, and a Claude budget back to an effort (issue
 * #20). Levels map to budgets as Google's OpenAI-compatibility layer documents (low 1,024, medium
 * 8,192, high 24,576).
 */
class ReasoningTranslationTest {

  private static ChatRequest openAi(String extra) {
    return OpenAiWire.parseRequest(
        Json.parseOrNull(
            "{\"model\":\"o3\",\"messages\":[{\"role\":\"user\",\"content\":\"Prove it.\"}]"
                + extra
                + "}"));
  }

  @Test
  void effortBecomesAClaudeBudgetBelowTheCapWithoutSamplingChanges() {
    JsonNode a = AnthropicWire.encodeRequest(openAi(",\"reasoning_effort\":\"high\""), "claude");
    assertThat(a.at("/thinking/type").asText()).isEqualTo("enabled");
    assertThat(a.at("/thinking/budget_tokens").asInt()).isEqualTo(24576);
    assertThat(a.at("/max_tokens").asInt()).isEqualTo(24576 + 4096); // no cap: room to answer

    JsonNode capped =
        AnthropicWire.encodeRequest(
            openAi(
                ",\"reasoning_effort\":\"medium\",\"max_completion_tokens\":2000,\"temperature\":1"),
            "claude");
    assertThat(capped.at("/thinking/budget_tokens").asInt()).isEqualTo(1999); // < max_tokens
    assertThat(capped.at("/max_tokens").asInt()).isEqualTo(2000);
    assertThat(capped.has("temperature")).isFalse();

    // too small a cap to think in (Claude's minimum budget is 1,024), effort none, and a forced
    // tool (structured output) all mean no thinking, as Claude would refuse it
    for (String extra :
        java.util.List.of(
            ",\"reasoning_effort\":\"high\",\"max_completion_tokens\":1000",
            ",\"reasoning_effort\":\"none\"",
            ",\"reasoning_effort\":\"low\",\"response_format\":{\"type\":\"json_object\"}")) {
      JsonNode none = AnthropicWire.encodeRequest(openAi(extra), "claude");
      assertThat(none.has("thinking")).as(extra).isFalse();
    }
  }

  @Test
  void effortReachesClaudeOnBedrockButNoOtherBedrockModel() {
    ChatRequest r = openAi(",\"reasoning_effort\":\"low\"");
    JsonNode b = BedrockWire.encodeRequest(r, "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    assertThat(b.at("/additionalModelRequestFields/thinking/budget_tokens").asInt())
        .isEqualTo(1024);
    assertThat(b.at("/inferenceConfig/maxTokens").asInt()).isEqualTo(1024 + 4096);
    JsonNode nova = BedrockWire.encodeRequest(r, "amazon.nova-pro-v1:0");
    assertThat(nova.has("additionalModelRequestFields")).isFalse();
    assertThat(nova.has("inferenceConfig")).isFalse();
  }

  @Test
  void effortBecomesGeminiThinkingConfigAsEachFamilyTakesIt() {
    assertThat(think("high", "gemini-2.5-flash").at("/thinkingBudget").asInt()).isEqualTo(24576);
    assertThat(think("xhigh", "gemini-2.5-flash").at("/thinkingBudget").asInt()).isEqualTo(24576);
    assertThat(think("xhigh", "gemini-2.5-pro").at("/thinkingBudget").asInt()).isEqualTo(32768);
    assertThat(think("none", "gemini-2.5-flash").at("/thinkingBudget").asInt()).isZero();
    assertThat(think("none", "gemini-2.5-pro").at("/thinkingBudget").asInt()).isEqualTo(128);
    assertThat(think("medium", "gemini-3-pro-preview").at("/thinkingLevel").asText())
        .isEqualTo("high");
    assertThat(think("medium", "gemini-3-flash-preview").at("/thinkingLevel").asText())
        .isEqualTo("medium");
    assertThat(think("minimal", "gemini-3-flash-preview").at("/thinkingLevel").asText())
        .isEqualTo("minimal");
    assertThat(think("low", "gemini-3.1-pro-preview").has("thinkingBudget")).isFalse();
    assertThat(think("high", "gemini-2.0-flash").isMissingNode()).isTrue(); // no thinking there
  }

  private static JsonNode think(String effort, String model) {
    return GeminiWire.encodeRequest(openAi(",\"reasoning_effort\":\"" + effort + "\""), model)
        .at("/generationConfig/thinkingConfig");
  }

  @Test
  void effortPassesToOpenAiReasoningModelsOnlyWithTheirTokenCap() {
    ChatRequest r = openAi(",\"reasoning_effort\":\"minimal\",\"max_completion_tokens\":500");
    JsonNode o3 = OpenAiWire.encodeRequest(r, "o3");
    assertThat(o3.at("/reasoning_effort").asText()).isEqualTo("minimal");
    assertThat(o3.at("/max_completion_tokens").asInt()).isEqualTo(500);
    assertThat(o3.has("max_tokens")).isFalse();
    JsonNode gpt4o = OpenAiWire.encodeRequest(r, "gpt-4o");
    assertThat(gpt4o.has("reasoning_effort")).isFalse();
    assertThat(gpt4o.at("/max_tokens").asInt()).isEqualTo(500);
  }

  @Test
  void aClaudeBudgetBecomesAnEffortAndAGeminiBudget() {
    ChatRequest r =
        AnthropicWire.parseRequest(
            Json.parseOrNull(
                "{\"model\":\"c\",\"max_tokens\":16000,\"thinking\":{\"type\":\"enabled\","
                    + "\"budget_tokens\":10000},\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}"));
    assertThat(OpenAiWire.encodeRequest(r, "gpt-5-mini").at("/reasoning_effort").asText())
        .isEqualTo("high");
    assertThat(OpenAiWire.encodeRequest(r, "gpt-4.1").has("reasoning_effort")).isFalse();
    JsonNode g = GeminiWire.encodeRequest(r, "gemini-2.5-flash");
    assertThat(g.at("/generationConfig/thinkingConfig/thinkingBudget").asInt()).isEqualTo(10000);
    assertThat(
            GeminiWire.encodeRequest(r, "gemini-3-pro-preview")
                .at("/generationConfig/thinkingConfig/thinkingLevel")
                .asText())
        .isEqualTo("high");
    // to Claude it goes as the caller sent it
    JsonNode a = AnthropicWire.encodeRequest(r, "claude");
    assertThat(a.at("/thinking/budget_tokens").asInt()).isEqualTo(10000);
    assertThat(a.at("/max_tokens").asInt()).isEqualTo(16000);
  }

  @Test
  void anUnknownEffortIsRefusedAsOpenAiRefusesIt() {
    assertThatThrownBy(() -> openAi(",\"reasoning_effort\":\"extreme\""))
        .isInstanceOf(InvalidRequest.class)
        .satisfies(e -> assertThat(((InvalidRequest) e).param()).isEqualTo("reasoning_effort"));
  }
}
