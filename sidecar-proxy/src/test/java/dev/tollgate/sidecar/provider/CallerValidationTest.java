package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.format.CallerFormat;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.InvalidRequest;
import dev.tollgate.sidecar.wire.Json;
import org.junit.jupiter.api.Test;

/**
 * A translated request is checked as the provider the caller addressed checks it: what OpenAI or
 * Anthropic would refuse with a 400 is refused before the call, naming the field in that provider's
 * words (before, such requests reached the translating target, which may have accepted them).
 */
class CallerValidationTest {
  private static final String USER = "[{\"role\":\"user\",\"content\":\"hi\"}]";

  private static InvalidRequest openAi(String fields) {
    JsonNode body = Json.parseOrNull("{\"model\":\"r\"," + fields + "}");
    return catchThrowableOfType(() -> OpenAiWire.parseRequest(body), InvalidRequest.class);
  }

  private static InvalidRequest anthropic(String fields) {
    JsonNode body = Json.parseOrNull("{\"model\":\"r\"," + fields + "}");
    return catchThrowableOfType(() -> AnthropicWire.parseRequest(body), InvalidRequest.class);
  }

  @Test
  void openAiMaxTokensMustBeAPositiveInteger() {
    InvalidRequest neg = openAi("\"max_tokens\":-5,\"messages\":" + USER);
    assertThat(neg.param()).isEqualTo("max_tokens");
    assertThat(neg.code()).isEqualTo("integer_below_min_value");
    assertThat(neg.getMessage())
        .isEqualTo(
            "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got -5"
                + " instead.");
    InvalidRequest text = openAi("\"max_completion_tokens\":\"ten\",\"messages\":" + USER);
    assertThat(text.param()).isEqualTo("max_completion_tokens");
    assertThat(text.code()).isEqualTo("invalid_type");
    assertThat(text.getMessage())
        .isEqualTo(
            "Invalid type for 'max_completion_tokens': expected an integer, but got a string"
                + " instead.");
    assertThat(openAi("\"max_tokens\":1.5,\"messages\":" + USER).code()).isEqualTo("invalid_type");
    assertThat(openAi("\"max_tokens\":0,\"messages\":" + USER).code())
        .isEqualTo("integer_below_min_value");
    // a whole number written as a decimal is accepted, as the providers do
    assertThat(openAi("\"max_tokens\":100.0,\"messages\":" + USER)).isNull();
  }

  @Test
  void openAiToolChoiceMustNameADeclaredTool() {
    String tools =
        ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\"}}}]";
    InvalidRequest unknown =
        openAi(
            "\"messages\":"
                + USER
                + tools
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}");
    assertThat(unknown.param()).isEqualTo("tool_choice");
    assertThat(unknown.getMessage()).contains("'nope'");
    InvalidRequest noName =
        openAi(
            "\"messages\":"
                + USER
                + tools
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{}}");
    assertThat(noName.param()).isEqualTo("tool_choice.function.name");
    assertThat(noName.code()).isEqualTo("missing_required_parameter");
    InvalidRequest noTools = openAi("\"messages\":" + USER + ",\"tool_choice\":\"required\"");
    assertThat(noTools.getMessage()).contains("only allowed when 'tools' are specified");
    InvalidRequest bad = openAi("\"messages\":" + USER + tools + ",\"tool_choice\":\"always\"");
    assertThat(bad.getMessage())
        .isEqualTo("Invalid value: 'always'. Supported values are: 'none', 'auto', 'required'.");
  }

  @Test
  void openAiMessagesOfTheWrongShape() {
    assertThat(openAi("\"max_tokens\":5").code()).isEqualTo("missing_required_parameter");
    assertThat(openAi("\"messages\":\"hi\"").getMessage())
        .isEqualTo("Invalid type for 'messages': expected an array, but got a string instead.");
    assertThat(openAi("\"messages\":[\"hi\"]").param()).isEqualTo("messages[0]");
    assertThat(openAi("\"messages\":[{\"role\":\"user\",\"content\":5}]").param())
        .isEqualTo("messages[0].content");
    assertThat(openAi("\"messages\":[{\"role\":\"user\"}]").param())
        .isEqualTo("messages[0].content");
    assertThat(openAi("\"messages\":[{\"role\":\"tool\",\"content\":\"42\"}]").param())
        .isEqualTo("messages[0].tool_call_id");
    assertThat(
            openAi(
                    "\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}]")
                .param())
        .isEqualTo("messages[0].tool_calls[0].function.arguments");
    assertThat(openAi("\"messages\":" + USER + ",\"temperature\":3").code())
        .isEqualTo("integer_above_max_value");
    assertThat(openAi("\"messages\":" + USER + ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]").param())
        .isEqualTo("stop");
    assertThat(openAi("\"messages\":" + USER + ",\"stream\":\"yes\"").param()).isEqualTo("stream");
  }

  @Test
  void anthropicRequestsAreCheckedInAnthropicsWords() {
    assertThat(anthropic("\"messages\":" + USER).getMessage())
        .isEqualTo("max_tokens: Field required");
    assertThat(anthropic("\"max_tokens\":-1,\"messages\":" + USER).getMessage())
        .isEqualTo("max_tokens: Input should be greater than or equal to 1");
    assertThat(anthropic("\"max_tokens\":\"many\",\"messages\":" + USER).getMessage())
        .isEqualTo("max_tokens: Input should be a valid integer");
    InvalidRequest noId =
        anthropic(
            "\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"content\":\"42\"}]}]");
    assertThat(noId.getMessage()).isEqualTo("messages.0.content.0.tool_use_id: Field required");
    String tools = ",\"tools\":[{\"name\":\"get_weather\",\"input_schema\":{\"type\":\"object\"}}]";
    assertThat(
            anthropic(
                    "\"max_tokens\":5,\"messages\":"
                        + USER
                        + tools
                        + ",\"tool_choice\":{\"type\":\"tool\"}")
                .getMessage())
        .isEqualTo("tool_choice.name: Field required");
    assertThat(
            anthropic(
                    "\"max_tokens\":5,\"messages\":"
                        + USER
                        + tools
                        + ",\"tool_choice\":{\"type\":\"tool\",\"name\":\"nope\"}")
                .getMessage())
        .contains("'nope'");
    assertThat(
            anthropic("\"max_tokens\":5,\"messages\":[{\"role\":\"system\",\"content\":\"x\"}]")
                .getMessage())
        .isEqualTo("messages.0.role: Input should be 'user' or 'assistant'");
    assertThat(
            anthropic("\"max_tokens\":5,\"messages\":" + USER + ",\"tools\":[{\"name\":\"f\"}]")
                .getMessage())
        .isEqualTo("tools.0.input_schema: Field required");
    assertThat(
            anthropic("\"max_tokens\":5,\"messages\":" + USER + ",\"temperature\":1.5")
                .getMessage())
        .isEqualTo("temperature: Input should be less than or equal to 1");
  }

  @Test
  void theOpenAiErrorBodyNamesTheFieldAndTheAnthropicOneItsPath() {
    InvalidRequest e = openAi("\"max_tokens\":-5,\"messages\":" + USER);
    ObjectNode o = CallerFormat.of(ApiFormat.OPENAI).errorBody(e);
    assertThat(o.at("/error/param").asText()).isEqualTo("max_tokens");
    assertThat(o.at("/error/code").asText()).isEqualTo("integer_below_min_value");
    assertThat(o.at("/error/type").asText()).isEqualTo("invalid_request_error");
    InvalidRequest a = anthropic("\"messages\":" + USER);
    ObjectNode b = CallerFormat.of(ApiFormat.ANTHROPIC).errorBody(a);
    assertThat(b.path("type").asText()).isEqualTo("error");
    assertThat(b.at("/error/type").asText()).isEqualTo("invalid_request_error");
    assertThat(b.at("/error/message").asText()).isEqualTo("max_tokens: Field required");
  }
}
