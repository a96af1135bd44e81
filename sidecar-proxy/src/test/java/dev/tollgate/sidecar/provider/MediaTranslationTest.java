package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

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
 * Images and PDF documents cross between formats (issue #20): OpenAI's {@code image_url} and {@code
 * file} parts, Anthropic's {@code image} and {@code document} blocks, Gemini's {@code inlineData}
 * and Bedrock Converse's {@code image}/{@code document} bytes. Shapes from the providers' API
 * references. Before, every one of these was refused with a 400.
 */
class MediaTranslationTest {
  private static final String PNG = "iVBORw0KGgo=";
  private static final String PDF = "JVBERi0xLjQK";

  private static final String OPENAI =
      """
      {"model":"r","messages":[{"role":"user","content":[
        {"type":"text","text":"What is in these?"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,%s","detail":"low"}},
        {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
        {"type":"file","file":{"filename":"report.v2.pdf","file_data":"data:application/pdf;base64,%s"}}]}]}
      """
          .formatted(PNG, PDF);

  @Test
  void openAiImagesAndFilesToAnthropic() {
    ChatRequest r = OpenAiWire.parseRequest(Json.parseOrNull(OPENAI));
    JsonNode a = AnthropicWire.encodeRequest(r, "claude");
    JsonNode content = a.at("/messages/0/content");
    assertThat(content).hasSize(4);
    assertThat(content.at("/0/text").asText()).isEqualTo("What is in these?");
    assertThat(content.at("/1/type").asText()).isEqualTo("image");
    assertThat(content.at("/1/source/type").asText()).isEqualTo("base64");
    assertThat(content.at("/1/source/media_type").asText()).isEqualTo("image/png");
    assertThat(content.at("/1/source/data").asText()).isEqualTo(PNG);
    assertThat(content.at("/2/source/type").asText()).isEqualTo("url");
    assertThat(content.at("/2/source/url").asText()).isEqualTo("https://example.com/cat.jpg");
    assertThat(content.at("/3/type").asText()).isEqualTo("document");
    assertThat(content.at("/3/source/media_type").asText()).isEqualTo("application/pdf");
    assertThat(content.at("/3/source/data").asText()).isEqualTo(PDF);
    assertThat(content.at("/3/title").asText()).isEqualTo("report.v2.pdf");
  }

  @Test
  void inlineMediaToGeminiAndBedrockAndUrlsRefusedThere() {
    ChatRequest r = OpenAiWire.parseRequest(Json.parseOrNull(OPENAI));
    assertThat(GeminiWire.CAPABILITIES.missing(r)).isEqualTo("image_url");
    assertThat(BedrockWire.CAPABILITIES.missing(r)).isEqualTo("image_url");
    assertThat(OpenAiWire.CAPABILITIES.missing(r)).isNull();
    assertThatThrownBy(() -> GeminiWire.encodeRequest(r)).isInstanceOf(InvalidRequest.class);

    ChatRequest inline =
        OpenAiWire.parseRequest(
            Json.parseOrNull(
                OPENAI
                    .replace(
                        ",\n  {\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/cat.jpg\"}}",
                        "")
                    .replace(
                        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/cat.jpg\"}},",
                        "")));
    assertThat(GeminiWire.CAPABILITIES.missing(inline)).isNull();
    JsonNode g = GeminiWire.encodeRequest(inline);
    assertThat(g.at("/contents/0/parts/1/inlineData/mimeType").asText()).isEqualTo("image/png");
    assertThat(g.at("/contents/0/parts/1/inlineData/data").asText()).isEqualTo(PNG);
    assertThat(g.at("/contents/0/parts/2/inlineData/mimeType").asText())
        .isEqualTo("application/pdf");

    JsonNode b = BedrockWire.encodeRequest(inline);
    assertThat(b.at("/messages/0/content/1/image/format").asText()).isEqualTo("png");
    assertThat(b.at("/messages/0/content/1/image/source/bytes").asText()).isEqualTo(PNG);
    assertThat(b.at("/messages/0/content/2/document/format").asText()).isEqualTo("pdf");
    // Converse allows only letters, digits, spaces, hyphens, brackets and parentheses in names
    assertThat(b.at("/messages/0/content/2/document/name").asText()).isEqualTo("report v2 1");
    assertThat(b.at("/messages/0/content/2/document/source/bytes").asText()).isEqualTo(PDF);
  }

  @Test
  void anthropicImagesAndDocumentsToOpenAi() {
    ChatRequest r =
        AnthropicWire.parseRequest(
            Json.parseOrNull(
                """
                {"model":"r","max_tokens":50,"messages":[{"role":"user","content":[
                  {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"%s"}},
                  {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}},
                  {"type":"document","title":"Q3","source":{"type":"base64","media_type":"application/pdf","data":"%s"}},
                  {"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain words"}},
                  {"type":"text","text":"Summarise."}]}]}
                """
                    .formatted(PNG, PDF)));
    JsonNode o = OpenAiWire.encodeRequest(r, "gpt-4o");
    JsonNode content = o.at("/messages/0/content");
    assertThat(content.at("/0/type").asText()).isEqualTo("image_url");
    assertThat(content.at("/0/image_url/url").asText()).isEqualTo("data:image/jpeg;base64," + PNG);
    assertThat(content.at("/1/image_url/url").asText()).isEqualTo("https://example.com/a.png");
    assertThat(content.at("/2/type").asText()).isEqualTo("file");
    assertThat(content.at("/2/file/filename").asText()).isEqualTo("Q3");
    assertThat(content.at("/2/file/file_data").asText())
        .isEqualTo("data:application/pdf;base64," + PDF);
    assertThat(content.at("/3/text").asText()).isEqualTo("plain words");
    assertThat(content.at("/4/text").asText()).isEqualTo("Summarise.");
  }

  @Test
  void badMediaIsRefusedAsTheCallersProviderRefusesIt() {
    InvalidRequest tiff =
        catchThrowableOfType(
            () ->
                OpenAiWire.parseRequest(
                    Json.parseOrNull(
                        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/tiff;base64,AAAA\"}}]}]}")),
            InvalidRequest.class);
    assertThat(tiff.param()).isEqualTo("messages[0].content[0].image_url.url");
    assertThat(tiff.getMessage()).contains("image/tiff");
    InvalidRequest notBase64 =
        catchThrowableOfType(
            () ->
                AnthropicWire.parseRequest(
                    Json.parseOrNull(
                        "{\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"not base64!\"}}]}]}")),
            InvalidRequest.class);
    assertThat(notBase64.getMessage()).startsWith("messages.0.content.0.source:");
    InvalidRequest fileId =
        catchThrowableOfType(
            () ->
                OpenAiWire.parseRequest(
                    Json.parseOrNull(
                        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"file\",\"file\":{\"file_id\":\"file-abc\"}}]}]}")),
            InvalidRequest.class);
    assertThat(fileId.param()).isEqualTo("messages[0].content[0].file.file_id");
    InvalidRequest local =
        catchThrowableOfType(
            () ->
                OpenAiWire.parseRequest(
                    Json.parseOrNull(
                        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"file:///etc/passwd\"}}]}]}")),
            InvalidRequest.class);
    assertThat(local.getMessage()).contains("http(s) URL");
  }
}
