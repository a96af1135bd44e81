package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.bedrock.BedrockWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.Json;
import org.junit.jupiter.api.Test;

class RequestTranslationTest {
  private static JsonNode json(String s) {
    return Json.parseOrNull(s);
  }

  private static final String OPENAI_TOOL_TURN =
      """
      {"model":"r","max_completion_tokens":64,"stop":"END",
       "messages":[
         {"role":"developer","content":"Be brief."},
         {"role":"user","content":[{"type":"text","text":"Weather?"}]},
         {"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function",
           "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Oslo\\"}"}}]},
         {"role":"tool","tool_call_id":"call_9","content":"cold"}],
       "tools":[{"type":"function","function":{"name":"get_weather","strict":true,
         "parameters":{"$schema":"x","type":"object","additionalProperties":false,
           "properties":{"city":{"type":"string"}}}}}],
       "tool_choice":"required"}
      """;

  @Test
  void openAiToolTurnToGemini() {
    ChatRequest r = OpenAiWire.parseRequest(json(OPENAI_TOOL_TURN));
    JsonNode g = GeminiWire.encodeRequest(r);

    assertThat(g.at("/systemInstruction/parts/0/text").asText()).isEqualTo("Be brief.");
    assertThat(g.at("/generationConfig/maxOutputTokens").asInt()).isEqualTo(64);
    assertThat(g.at("/generationConfig/stopSequences/0").asText()).isEqualTo("END");
    assertThat(g.at("/contents/1/role").asText()).isEqualTo("model");
    assertThat(g.at("/contents/1/parts/0/functionCall/args/city").asText()).isEqualTo("Oslo");
    // Gemini names the function in a result, OpenAI only the call id
    assertThat(g.at("/contents/2/parts/0/functionResponse/name").asText()).isEqualTo("get_weather");
    JsonNode params = g.at("/tools/0/functionDeclarations/0/parameters");
    assertThat(params.has("$schema")).isFalse();
    assertThat(params.has("additionalProperties")).isFalse();
    assertThat(params.at("/properties/city/type").asText()).isEqualTo("string");
    assertThat(g.at("/toolConfig/functionCallingConfig/mode").asText()).isEqualTo("ANY");
  }

  @Test
  void openAiToolTurnToAnthropicAndBedrockKeepsTurnsAlternating() {
    ChatRequest r = OpenAiWire.parseRequest(json(OPENAI_TOOL_TURN));
    JsonNode a = AnthropicWire.encodeRequest(r, "claude");
    assertThat(a.path("system").asText()).isEqualTo("Be brief.");
    assertThat(a.path("messages")).hasSize(3);
    assertThat(a.at("/messages/2/role").asText()).isEqualTo("user");
    assertThat(a.at("/messages/2/content/0/type").asText()).isEqualTo("tool_result");
    assertThat(a.at("/tool_choice/type").asText()).isEqualTo("any");

    JsonNode b = BedrockWire.encodeRequest(r);
    assertThat(b.at("/system/0/text").asText()).isEqualTo("Be brief.");
    assertThat(b.at("/messages/1/content/0/toolUse/input/city").asText()).isEqualTo("Oslo");
    assertThat(b.at("/messages/2/content/0/toolResult/toolUseId").asText()).isEqualTo("call_9");
    assertThat(b.at("/inferenceConfig/maxTokens").asInt()).isEqualTo(64);
    assertThat(b.at("/toolConfig/toolChoice/any").isObject()).isTrue();
  }

  @Test
  void anthropicToolResultAndTextBecomeSeparateOpenAiMessages() {
    ChatRequest r =
        AnthropicWire.parseRequest(
            json(
                """
                {"model":"r","max_tokens":10,"system":[{"type":"text","text":"A"},{"type":"text","text":"B"}],
                 "stop_sequences":["X"],
                 "messages":[
                   {"role":"user","content":"hi"},
                   {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"q":1}}]},
                   {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"42"},
                                             {"type":"text","text":"thanks"}]}]}
                """));
    JsonNode o = OpenAiWire.encodeRequest(r, "gpt-4o");
    assertThat(o.at("/messages/0/content").asText()).isEqualTo("A\n\nB");
    assertThat(o.at("/messages/2/tool_calls/0/function/arguments").asText()).isEqualTo("{\"q\":1}");
    assertThat(o.at("/messages/3/role").asText()).isEqualTo("tool");
    assertThat(o.at("/messages/3/content").asText()).isEqualTo("42");
    assertThat(o.at("/messages/4/role").asText()).isEqualTo("user");
    assertThat(o.at("/messages/4/content").asText()).isEqualTo("thanks");
    assertThat(o.at("/stop/0").asText()).isEqualTo("X");
  }

  @Test
  void malformedMessagesAreRefusedWithTheirIndex() {
    assertThatThrownBy(
            () ->
                OpenAiWire.parseRequest(
                    json("{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}")))
        .hasMessageContaining("Invalid value: 'wizard'");
    assertThatThrownBy(() -> AnthropicWire.parseRequest(json("{\"max_tokens\":5,\"messages\":[]}")))
        .hasMessageContaining("messages: at least one message is required");
  }
}
