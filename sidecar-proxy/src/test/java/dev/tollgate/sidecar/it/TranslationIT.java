package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Translated calls end to end (issue #20): what the caller's own provider would refuse is refused
 * in the caller's format before any provider call; what the target can carry is translated.
 */
class TranslationIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CHAT = "/v1/chat/completions";
  private static final String MESSAGES = "/v1/messages";
  private static TestBed bed;

  @BeforeAll
  static void start() throws Exception {
    bed =
        TestBed.start(
            """
              - model: pics
                retry: {attempts: 0}
                tiers:
                  - name: main
                    targets: [{credential: bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0"}]
                    fallbacks: [{credential: anthropic, model: claude-3-5-sonnet-20241022}]
              - model: bronly
                retry: {attempts: 0}
                tiers:
                  - name: main
                    targets: [{credential: bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0"}]
              - model: multi
                retry: {attempts: 0}
                tiers:
                  - name: main
                    targets: [{credential: anthropic, model: claude-3-5-sonnet-20241022}]
                    fallbacks: [{credential: openai, model: gpt-4o-mini}]
            """);
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  private static final String IMAGE_BY_URL =
      "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":["
          + "{\"type\":\"text\",\"text\":\"What is this?\"},"
          + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/cat.jpg\"}}]}]}";

  @Test
  void aTargetThatCannotTakeTheRequestIsSkippedForACapableOne() throws Exception {
    HttpResponse<String> r = bed.post(CHAT, IMAGE_BY_URL.formatted("pics"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-tollgate-provider")).hasValue("anthropic");
    assertThat(r.headers().firstValue("x-tollgate-failovers")).hasValue("0");
    assertThat(bed.sim.stats().requests()).as("Bedrock is not even called").isEqualTo(1);
    JsonNode sent = bed.sim.lastRequest().body();
    assertThat(sent.at("/messages/0/content/1/source/url").asText())
        .isEqualTo("https://example.com/cat.jpg");
    assertThat(
            bed.metric(
                "tollgate_translation_skips_total{feature=\"image_url\",provider=\"bedrock\",route=\"pics\"}"))
        .isEqualTo(1);
  }

  @Test
  void whenNoTargetCanTakeItTheCallIsRefusedNamingTheFeature() throws Exception {
    HttpResponse<String> r = bed.post(CHAT, IMAGE_BY_URL.formatted("bronly"));
    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode e = json(r).path("error");
    assertThat(e.path("param").asText()).isEqualTo("image_url");
    assertThat(e.path("message").asText()).contains("an image by URL");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void aRequestForLogprobsSkipsAnthropicForATargetThatHasThem() throws Exception {
    ch.qos.logback.classic.Logger callLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("tollgate.call");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    callLog.addAppender(lines);
    net.logstash.logback.encoder.LogstashEncoder encoder =
        new net.logstash.logback.encoder.LogstashEncoder();
    encoder.start();
    HttpResponse<String> r =
        bed.post(
            CHAT,
            "{\"model\":\"multi\",\"logprobs\":true,\"top_logprobs\":2,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-tollgate-provider")).hasValue("openai");
    assertThat(bed.sim.stats().requests()).as("Anthropic is not even called").isEqualTo(1);
    assertThat(bed.sim.lastRequest().body().path("top_logprobs").asInt()).isEqualTo(2);
    assertThat(
            bed.metric(
                "tollgate_translation_skips_total{feature=\"logprobs\",provider=\"anthropic\",route=\"multi\"}"))
        .isEqualTo(1);
    // the call's log line says which target was passed over and why
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(5))
        .until(() -> !lines.list.isEmpty());
    callLog.detachAppender(lines);
    String line =
        new String(
            encoder.encode(lines.list.get(lines.list.size() - 1)),
            java.nio.charset.StandardCharsets.UTF_8);
    assertThat(line)
        .contains("\"skipped\":[\"anthropic/claude-3-5-sonnet-20241022: logprobs\"]")
        .contains("\"provider\":\"openai\"");
  }

  @Test
  void whatOnlyTheCallersOwnFormatCarriesGoesToATargetSpeakingIt() throws Exception {
    HttpResponse<String> r =
        bed.post(
            CHAT,
            "{\"model\":\"multi\",\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-tollgate-provider")).hasValue("openai");
    assertThat(bed.sim.lastRequest().body().path("n").asInt()).isEqualTo(2);
    HttpResponse<String> refused =
        bed.post(
            CHAT,
            "{\"model\":\"an\",\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(json(refused).at("/error/param").asText()).as(refused.body()).isEqualTo("n");
  }

  @Test
  void jsonSchemaOutputSurvivesTranslationToAnthropicStreamedAndNot() throws Exception {
    bed.sim.behavior(
        dev.tollgate.simulator.SimulatorBehavior.defaults()
            .withToolCall("tollgate_structured_output", "{\"answer\":\"yes\"}"));
    String body =
        "{\"model\":\"an\",\"messages\":[{\"role\":\"user\",\"content\":\"Is it?\"}],"
            + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"verdict\","
            + "\"schema\":{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"}}}}}%s}";
    HttpResponse<String> r = bed.post(CHAT, body.formatted(""));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode msg = json(r).at("/choices/0/message");
    assertThat(JSON.readTree(msg.path("content").asText()).path("answer").asText())
        .isEqualTo("yes");
    assertThat(msg.has("tool_calls")).isFalse();
    assertThat(json(r).at("/choices/0/finish_reason").asText()).isEqualTo("stop");
    JsonNode sent = bed.sim.lastRequest().body();
    assertThat(sent.at("/tool_choice/name").asText()).isEqualTo("tollgate_structured_output");

    HttpResponse<String> s = bed.post(CHAT, body.formatted(",\"stream\":true"));
    assertThat(s.statusCode()).isEqualTo(200);
    StringBuilder text = new StringBuilder();
    for (String line : s.body().split("\n")) {
      if (line.startsWith("data: {")) {
        JsonNode c = JSON.readTree(line.substring(6)).at("/choices/0/delta");
        assertThat(c.has("tool_calls")).isFalse();
        text.append(c.path("content").asText(""));
      }
    }
    assertThat(JSON.readTree(text.toString()).path("answer").asText()).isEqualTo("yes");
    assertThat(s.body()).contains("\"finish_reason\":\"stop\"");
  }

  @Test
  void anInlineScreenshotAndAJsonAnswerThroughBedrockAndGemini() throws Exception {
    // the simulator answers a forced tool_choice with a call of that tool, as the models do
    String body =
        "{\"model\":\"%s\",%s\"messages\":[{\"role\":\"user\",\"content\":["
            + "{\"type\":\"text\",\"text\":\"Classify the error.\"},"
            + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo=\"}},"
            + "{\"type\":\"file\",\"file\":{\"filename\":\"log.pdf\",\"file_data\":\"data:application/pdf;base64,JVBERi0xLjQK\"}}]}],"
            + "\"response_format\":{\"type\":\"json_object\"}}";
    for (String stream : new String[] {"", "\"stream\":true,"}) {
      HttpResponse<String> b = bed.post(CHAT, body.formatted("br", stream));
      assertThat(b.statusCode()).as(b.body()).isEqualTo(200);
      if (stream.isEmpty()) {
        assertThat(json(b).at("/choices/0/message/content").asText()).isEqualTo("{}");
        assertThat(json(b).at("/choices/0/finish_reason").asText()).isEqualTo("stop");
      } else {
        assertThat(b.body()).contains("\"content\":\"{}\"").doesNotContain("tool_calls");
      }
      JsonNode sent = bed.sim.lastRequest().body();
      assertThat(sent.at("/messages/0/content/1/image/format").asText()).isEqualTo("png");
      assertThat(sent.at("/messages/0/content/2/document/name").asText()).isEqualTo("log 1");
      assertThat(sent.at("/toolConfig/toolChoice/tool/name").asText())
          .isEqualTo("tollgate_structured_output");
    }
    HttpResponse<String> g = bed.post(CHAT, body.formatted("ge", ""));
    assertThat(g.statusCode()).as(g.body()).isEqualTo(200);
    JsonNode sent = bed.sim.lastRequest().body();
    assertThat(sent.at("/contents/0/parts/1/inlineData/mimeType").asText()).isEqualTo("image/png");
    assertThat(sent.at("/generationConfig/responseMimeType").asText())
        .isEqualTo("application/json");
  }

  @Test
  void anOpenAiCallerGetsOpenAisFourHundredBeforeAnyTranslatedCall() throws Exception {
    HttpResponse<String> r =
        bed.post(
            CHAT,
            "{\"model\":\"an\",\"max_tokens\":-5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode e = json(r).path("error");
    assertThat(e.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(e.path("param").asText()).isEqualTo("max_tokens");
    assertThat(e.path("code").asText()).isEqualTo("integer_below_min_value");
    assertThat(bed.sim.stats().requests()).as("no provider call").isZero();
  }

  @Test
  void anAnthropicCallerGetsAnthropicsFourHundredBeforeAnyTranslatedCall() throws Exception {
    HttpResponse<String> r =
        bed.post(
            MESSAGES,
            "{\"model\":\"oa\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":"
                + "[{\"type\":\"tool_result\",\"content\":\"42\"}]}]}",
            "anthropic-version",
            "2023-06-01");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(json(r).path("type").asText()).isEqualTo("error");
    assertThat(json(r).at("/error/type").asText()).isEqualTo("invalid_request_error");
    assertThat(json(r).at("/error/message").asText())
        .isEqualTo("messages.0.content.0.tool_use_id: Field required");
    assertThat(bed.sim.stats().requests()).as("no provider call").isZero();
  }
}
