package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.anthropic.core.ObjectMappers;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.TextBlock;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.bedrock.BedrockWire;
import dev.tollgate.sidecar.provider.gemini.GeminiWire;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.provider.vertex.VertexAdapter;
import dev.tollgate.sidecar.wire.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Anthropic citations (issue #20): a document with {@code citations: {enabled: true}} goes only to
 * targets speaking Messages (Claude on Vertex AI when translated), others are skipped; the answer's
 * text blocks keep their {@code citations}, whole and streamed ({@code citations_delta}), read by
 * the official Anthropic SDK. Shapes from Anthropic's citations documentation.
 */
class CitationsTranslationTest {
  private static final String ASK =
      """
      {"model":"r","max_tokens":512,"messages":[{"role":"user","content":[
        {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjQK"},
         "title":"Example Document","citations":{"enabled":true}},
        {"type":"text","text":"What color is the grass?"}]}]}
      """;

  private static final String CITATION =
      "{\"type\":\"page_location\",\"cited_text\":\"The grass is green. \",\"document_index\":0,"
          + "\"document_title\":\"Example Document\",\"start_page_number\":1,\"end_page_number\":2}";

  @Test
  void aDocumentWithCitationsGoesOnlyWhereMessagesIsSpoken() {
    ChatRequest r = AnthropicWire.parseRequest(Json.parseOrNull(ASK));
    JsonNode v = AnthropicWire.encodeRequest(r, "claude-sonnet-4-5");
    assertThat(v.at("/messages/0/content/0/citations/enabled").asBoolean()).isTrue();
    assertThat(v.at("/messages/0/content/0/title").asText()).isEqualTo("Example Document");
    assertThat(new VertexAdapter().capabilities("claude-sonnet-4-5").missing(r)).isNull();
    assertThat(AnthropicWire.CAPABILITIES.missing(r)).isNull();
    assertThat(BedrockWire.CAPABILITIES.missing(r)).isEqualTo("citations");
    assertThat(GeminiWire.capabilities("gemini-3-pro-preview").missing(r)).isEqualTo("citations");
    assertThat(OpenAiWire.CAPABILITIES.missing(r)).isEqualTo("citations");
    assertThat(new VertexAdapter().capabilities("gemini-2.5-pro").missing(r))
        .isEqualTo("citations");
  }

  @Test
  void citedTextBlocksReachTheCallerWithTheirCitations() {
    JsonNode answer =
        Json.parseOrNull(
            """
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
             "content":[{"type":"text","text":"According to the document, "},
                        {"type":"text","text":"the grass is green","citations":[%s]},
                        {"type":"text","text":"."}],
             "stop_reason":"end_turn","usage":{"input_tokens":90,"output_tokens":12}}
            """
                .formatted(CITATION));
    JsonNode rendered = AnthropicWire.renderResponse(AnthropicWire.decodeResponse(answer));
    assertThat(rendered.at("/content/1/citations"))
        .isEqualTo(Json.parseOrNull("[" + CITATION + "]"));
    assertThat(rendered.at("/content/0/citations").isMissingNode()).isTrue();
    Message m = ObjectMappers.jsonMapper().convertValue(rendered, Message.class);
    TextBlock cited = m.content().get(1).text().orElseThrow();
    assertThat(cited.citations().orElseThrow().get(0).pageLocation().orElseThrow().citedText())
        .isEqualTo("The grass is green. ");
    // an OpenAI caller gets the text (its format has no document citations)
    assertThat(
            OpenAiWire.renderResponse(AnthropicWire.decodeResponse(answer))
                .at("/choices/0/message/content")
                .asText())
        .isEqualTo("According to the document, the grass is green.");
  }

  @Test
  void streamedCitationsDeltasSurviveDecodingAndEncoding() {
    AnthropicWire.Decoder dec = new AnthropicWire.Decoder();
    List<StreamEvent> events = new ArrayList<>();
    for (String data :
        List.of(
            "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":90,\"output_tokens\":1}}}",
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"citations_delta\",\"citation\":"
                + CITATION
                + "}}",
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"the grass is green\"}}",
            "{\"type\":\"content_block_stop\",\"index\":0}",
            "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":12}}",
            "{\"type\":\"message_stop\"}")) {
      events.addAll(dec.onEvent(null, data));
    }
    AnthropicWire.Encoder enc = new AnthropicWire.Encoder();
    StringBuilder sse = new StringBuilder();
    events.forEach(e -> sse.append(enc.encode(e)));
    TextBlock t =
        ThinkingStreamTranslationTest.sdkMessage(sse.toString())
            .content()
            .get(0)
            .text()
            .orElseThrow();
    assertThat(t.text()).isEqualTo("the grass is green");
    assertThat(t.citations().orElseThrow()).hasSize(1);
    assertThat(t.citations().orElseThrow().get(0).pageLocation().orElseThrow().startPageNumber())
        .isEqualTo(1);
  }
}
