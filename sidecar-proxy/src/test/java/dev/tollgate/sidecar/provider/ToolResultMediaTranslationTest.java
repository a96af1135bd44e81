package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.Capabilities;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.bedrock.BedrockWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.Json;
import org.junit.jupiter.api.Test;

/**
 * Images and documents inside tool results (issue #20): Anthropic's {@code tool_result} content
 * blocks become Bedrock's {@code toolResult.content} image/document blocks, Claude on Vertex AI's
 * same blocks, and Gemini 3's multimodal function responses ({@code functionResponse.parts});
 * OpenAI chat's tool messages and Gemini before 3 take only text, so such a request skips them.
 */
class ToolResultMediaTranslationTest {
  private static final String PNG = "iVBORw0KGgo=";
  private static final String PDF = "JVBERi0xLjQK";

  private static final String TURN =
      """
      {"model":"r","max_tokens":512,
       "messages":[
         {"role":"user","content":"What does the chart show?"},
         {"role":"assistant","content":[
           {"type":"tool_use","id":"toolu_1","name":"render_chart","input":{"id":7}}]},
         {"role":"user","content":[
           {"type":"tool_result","tool_use_id":"toolu_1","content":[
             {"type":"text","text":"Chart 7:"},
             {"type":"image","source":{"type":"base64","media_type":"image/png","data":"%s"}},
             {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"%s"},"title":"data.pdf"}]}]}],
       "tools":[{"name":"render_chart","input_schema":{"type":"object"}}]}
      """
          .formatted(PNG, PDF);

  private static ChatRequest turn() {
    return AnthropicWire.parseRequest(Json.parseOrNull(TURN));
  }

  @Test
  void bedrockGetsImageAndDocumentBlocksInTheToolResult() {
    JsonNode b = BedrockWire.encodeRequest(turn(), "anthropic.claude-sonnet-4-5-v1:0");
    JsonNode c = b.at("/messages/2/content/0/toolResult/content");
    assertThat(c.at("/0/text").asText()).isEqualTo("Chart 7:");
    assertThat(c.at("/1/image/format").asText()).isEqualTo("png");
    assertThat(c.at("/1/image/source/bytes").asText()).isEqualTo(PNG);
    assertThat(c.at("/2/document/format").asText()).isEqualTo("pdf");
    assertThat(c.at("/2/document/name").asText()).isEqualTo("data 1");
    assertThat(c.at("/2/document/source/bytes").asText()).isEqualTo(PDF);
    assertThat(BedrockWire.CAPABILITIES.missing(turn())).isNull();
  }

  @Test
  void claudeOnVertexGetsTheBlocksAsSent() {
    JsonNode v = AnthropicWire.encodeRequest(turn(), "claude-sonnet-4-5");
    JsonNode c = v.at("/messages/2/content/0/content");
    assertThat(c.at("/0/text").asText()).isEqualTo("Chart 7:");
    assertThat(c.at("/1/type").asText()).isEqualTo("image");
    assertThat(c.at("/1/source/data").asText()).isEqualTo(PNG);
    assertThat(c.at("/2/type").asText()).isEqualTo("document");
    assertThat(c.at("/2/title").asText()).isEqualTo("data.pdf");
  }

  @Test
  void gemini3GetsAMultimodalFunctionResponseAndOlderGeminiIsSkipped() {
    JsonNode g = GeminiWire.encodeRequest(turn(), "gemini-3-pro-preview");
    JsonNode fr = g.at("/contents/2/parts/0/functionResponse");
    assertThat(fr.at("/name").asText()).isEqualTo("render_chart");
    assertThat(fr.at("/response/content").asText()).isEqualTo("Chart 7:");
    assertThat(fr.at("/parts/0/inlineData/mimeType").asText()).isEqualTo("image/png");
    assertThat(fr.at("/parts/1/inlineData/mimeType").asText()).isEqualTo("application/pdf");
    assertThat(GeminiWire.capabilities("gemini-3-pro-preview").missing(turn())).isNull();
    assertThat(GeminiWire.capabilities("gemini-2.5-flash").missing(turn()))
        .isEqualTo("tool_result_media");
  }

  @Test
  void openAiChatTakesNoMediaInToolMessagesSoItIsSkipped() {
    assertThat(OpenAiWire.CAPABILITIES.missing(turn())).isEqualTo("tool_result_media");
    assertThat(Capabilities.refused("tool_result_media", null).getMessage())
        .contains("images or documents inside a tool result");
  }

  @Test
  void anImageByUrlInAToolResultSkipsTargetsThatTakeNoUrls() {
    ChatRequest byUrl =
        AnthropicWire.parseRequest(
            Json.parseOrNull(
                TURN.replace(
                    "{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"" + PNG + "\"}",
                    "{\"type\":\"url\",\"url\":\"https://example.com/chart.png\"}")));
    assertThat(BedrockWire.CAPABILITIES.missing(byUrl)).isEqualTo("image_url");
    assertThat(AnthropicWire.CAPABILITIES.missing(byUrl)).isNull();
  }
}
