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
    bed = TestBed.start();
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
