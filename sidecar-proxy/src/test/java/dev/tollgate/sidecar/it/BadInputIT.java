package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.simulator.Fault;
import dev.tollgate.simulator.SimulatorBehavior;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every bad input, from callers and from providers: a clear error in the caller's format, metered
 * as far as known, and the sidecar keeps serving.
 */
class BadInputIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CHAT = "/v1/chat/completions";
  private static final String MESSAGES = "/v1/messages";
  private static TestBed bed;
  private static OpenAIClient openai;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
    openai = SdkClients.openAi(bed.sidecar.baseUrl(), "x");
  }

  @AfterAll
  static void stop() throws Exception {
    openai.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  @AfterEach
  void stillServing() throws Exception {
    bed.sim.reset();
    HttpResponse<String> r =
        bed.post(CHAT, "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).as("the sidecar still serves after the bad input").isEqualTo(200);
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  private static void assertOpenAiError(HttpResponse<String> r, int status, ErrorKind kind)
      throws Exception {
    assertThat(r.statusCode()).isEqualTo(status);
    JsonNode e = json(r).path("error");
    assertThat(e.path("code").asText()).isEqualTo(kind.label());
    assertThat(e.path("type").asText()).isEqualTo(kind.openAiType());
    assertThat(e.path("message").asText()).isNotBlank();
  }

  private static void assertAnthropicError(HttpResponse<String> r, int status, String type)
      throws Exception {
    assertThat(r.statusCode()).isEqualTo(status);
    assertThat(json(r).path("type").asText()).isEqualTo("error");
    assertThat(json(r).at("/error/type").asText()).isEqualTo(type);
    assertThat(json(r).at("/error/message").asText()).isNotBlank();
  }

  @Test
  void malformedJson() throws Exception {
    HttpResponse<String> r = bed.post(CHAT, "{\"model\": \"oa\", ");
    assertOpenAiError(r, 400, ErrorKind.INVALID_REQUEST);
    assertThat(json(r).at("/error/message").asText()).contains("not valid JSON");
    assertAnthropicError(bed.post(MESSAGES, "not json at all"), 400, "invalid_request_error");
    assertOpenAiError(bed.post(CHAT, "[1,2]"), 400, ErrorKind.INVALID_REQUEST);
    assertOpenAiError(bed.post(CHAT, ""), 400, ErrorKind.INVALID_REQUEST);
  }

  @Test
  void missingModel() throws Exception {
    HttpResponse<String> r =
        bed.post(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertOpenAiError(r, 400, ErrorKind.INVALID_REQUEST);
    assertThat(json(r).at("/error/message").asText())
        .contains("'model' is required")
        .contains("oa");
  }

  @Test
  void unknownRouteIsNotFoundWithoutADefaultRoute() throws Exception {
    assertThatThrownBy(
            () ->
                openai
                    .chat()
                    .completions()
                    .create(
                        ChatCompletionCreateParams.builder()
                            .model("gpt-5-turbo-max")
                            .addUserMessage("hi")
                            .build()))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("names no route");
    assertAnthropicError(
        bed.post(
            MESSAGES,
            "{\"model\":\"nope\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        404,
        "not_found_error");
    assertThat(
            bed.metric(
                "tollgate_errors_total{kind=\"unknown_route\",model=\"\",provider=\"\",route=\"_unknown\"}"))
        .isPositive();
  }

  @Test
  void bodyOverTheLimitIs413() throws Exception {
    String big =
        "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\""
            + "x".repeat(70_000)
            + "\"}]}";
    assertOpenAiError(bed.post(CHAT, big), 413, ErrorKind.TOO_LARGE);
    assertAnthropicError(bed.post(MESSAGES, big), 413, "request_too_large");
  }

  @Test
  void wrongMethodAndUnknownPath() throws Exception {
    HttpResponse<String> get = bed.get(CHAT);
    assertOpenAiError(get, 405, ErrorKind.METHOD_NOT_ALLOWED);
    assertThat(get.headers().firstValue("allow")).contains("POST");
    assertOpenAiError(bed.get("/v2/whatever"), 404, ErrorKind.NOT_FOUND);
    assertAnthropicError(bed.get(MESSAGES), 405, "invalid_request_error");
  }

  @Test
  void stalledClientGets408AndIsDisconnected() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", bed.sidecar.port()));
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(response).startsWith("HTTP/1.1 408").contains("\"type\":\"error\"");
    }
  }

  @Test
  void tricklingClientGets408Too() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", bed.sidecar.port()));
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      // one byte every 200 ms never leaves the connection idle for the 500 ms read timeout
      StringBuilder response = new StringBuilder();
      for (int i = 0; i < 40 && response.length() == 0; i++) {
        Thread.sleep(200);
        try {
          out.write(' ');
          out.flush();
        } catch (java.io.IOException closed) {
          break;
        }
        if (in.available() > 0) {
          response.append(new String(in.readNBytes(in.available()), StandardCharsets.UTF_8));
        }
      }
      response.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      assertThat(response.toString()).startsWith("HTTP/1.1 408").contains("client_timeout");
    }
  }

  @Test
  void providerRateLimitIs429WithRetryAfter() throws Exception {
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.RATE_LIMITED).withRetryAfter(3));
    HttpResponse<String> r =
        bed.post(CHAT, "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertOpenAiError(r, 429, ErrorKind.UPSTREAM_RATE_LIMITED);
    assertThat(r.headers().firstValue("retry-after")).contains("3");
    assertThatThrownBy(
            () ->
                openai
                    .chat()
                    .completions()
                    .create(
                        ChatCompletionCreateParams.builder()
                            .model("an")
                            .addUserMessage("hi")
                            .build()))
        .isInstanceOf(RateLimitException.class);
    assertAnthropicError(
        bed.post(
            MESSAGES,
            "{\"model\":\"ge\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        429,
        "rate_limit_error");
  }

  @Test
  void providerServerErrorsAndOverload() throws Exception {
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
    assertOpenAiError(
        bed.post(CHAT, "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        502,
        ErrorKind.UPSTREAM_ERROR);
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.OVERLOADED));
    assertAnthropicError(
        bed.post(
            MESSAGES,
            "{\"model\":\"an\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        503,
        "overloaded_error");
  }

  @Test
  void connectionResetAndWrongKey() throws Exception {
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.RESET));
    assertOpenAiError(
        bed.post(CHAT, "{\"model\":\"ge\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        502,
        ErrorKind.UPSTREAM_CONNECT);
    bed.sim.reset();
    bed.sim.requireApiKey("another-key");
    HttpResponse<String> r =
        bed.post(CHAT, "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertOpenAiError(r, 502, ErrorKind.UPSTREAM_AUTH);
    assertThat(r.body()).doesNotContain(TestBed.OPENAI_KEY);
  }

  @Test
  void providerGarbageAndTruncatedBodies() throws Exception {
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.GARBAGE));
    assertOpenAiError(
        bed.post(CHAT, "{\"model\":\"an\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        502,
        ErrorKind.UPSTREAM_BAD_RESPONSE);
    HttpResponse<String> streamed =
        bed.post(
            CHAT,
            "{\"model\":\"oa\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertOpenAiError(streamed, 502, ErrorKind.UPSTREAM_BAD_RESPONSE);
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.TRUNCATED_BODY));
    assertAnthropicError(
        bed.post(
            MESSAGES,
            "{\"model\":\"an\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        502,
        "api_error");
  }

  @Test
  void streamBrokenHalfwayEndsWithAnErrorEventAndIsMeteredAsFarAsKnown() throws Exception {
    bed.sim.behavior(
        SimulatorBehavior.defaults().withFault(Fault.BREAK_STREAM).withUsage(40, 8, 0, 0));
    long inputBefore = bed.sidecar.ledger().total().inputTokens();
    double incompleteBefore =
        bed.metric(
            "tollgate_usage_incomplete_total{model=\"claude-3-5-sonnet-20241022\",provider=\"anthropic\",route=\"an\"}");
    HttpResponse<String> r =
        bed.post(
            MESSAGES,
            "{\"model\":\"an\",\"max_tokens\":50,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .contains("event: message_start")
        .contains("event: error")
        .contains("api_error");
    assertThat(r.body()).doesNotContain("event: message_stop");
    assertThat(bed.sidecar.ledger().total().inputTokens() - inputBefore).isEqualTo(40);
    assertThat(
            bed.metric(
                "tollgate_usage_incomplete_total{model=\"claude-3-5-sonnet-20241022\",provider=\"anthropic\",route=\"an\"}"))
        .isEqualTo(incompleteBefore + 1);

    assertThatThrownBy(
            () -> {
              try (StreamResponse<ChatCompletionChunk> s =
                  openai
                      .chat()
                      .completions()
                      .createStreaming(
                          ChatCompletionCreateParams.builder()
                              .model("oa")
                              .addUserMessage("hi")
                              .build())) {
                s.stream().forEach(c -> {});
              }
            })
        .hasMessageContaining("mid-response");
  }

  @Test
  void callerLeavingMidStreamIsMeteredWithTheProvidersFinalUsage() throws Exception {
    bed.sim.behavior(
        SimulatorBehavior.defaults()
            .withTiming(java.time.Duration.ZERO, 50)
            .withUsage(33, 100, 0, 0));
    long closedBefore = closedCount();
    long inputBefore = bed.sidecar.ledger().total().inputTokens();
    long outputBefore = bed.sidecar.ledger().total().outputTokens();
    String body =
        "{\"model\":\"an\",\"max_tokens\":500,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", bed.sidecar.port()));
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                      + body.length()
                      + "\r\n\r\n"
                      + body)
                  .getBytes(StandardCharsets.UTF_8));
      byte[] first = new byte[256];
      assertThat(s.getInputStream().read(first)).isPositive();
    }
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(() -> closedCount() > closedBefore);
    assertThat(bed.sidecar.ledger().total().inputTokens() - inputBefore).isEqualTo(33);
    // the provider generated (and bills) the whole answer: the sidecar read on for its usage
    assertThat(bed.sidecar.ledger().total().outputTokens() - outputBefore).isEqualTo(100);
  }

  private static long closedCount() {
    return bed.sidecar.ledger().total().errors().getOrDefault(ErrorKind.CLIENT_CLOSED, 0L);
  }

  @Test
  void bedrockEventStreamBrokenHalfwayEndsWithAnErrorEvent() throws Exception {
    bed.sim.behavior(
        SimulatorBehavior.defaults().withFault(Fault.BREAK_STREAM).withUsage(40, 8, 0, 0));
    HttpResponse<String> r =
        bed.post(
            MESSAGES,
            "{\"model\":\"br\",\"max_tokens\":50,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .contains("event: content_block_delta")
        .contains("event: error")
        .doesNotContain("event: message_stop");
  }

  @Test
  void missingUsageIsServedAndFlagged() throws Exception {
    bed.sim.behavior(SimulatorBehavior.defaults().withoutUsage());
    HttpResponse<String> r =
        bed.post(CHAT, "{\"model\":\"an\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(
            bed.metric(
                "tollgate_usage_incomplete_total{model=\"claude-3-5-sonnet-20241022\",provider=\"anthropic\",route=\"an\"}"))
        .isPositive();
  }

  @Test
  void unpricedModelIsCountedNotPricedAsZero() throws Exception {
    assertThat(
            bed.post(
                    CHAT,
                    "{\"model\":\"unpriced\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .statusCode())
        .isEqualTo(200);
    assertThat(
            bed.metric(
                "tollgate_unpriced_requests_total{model=\"my-finetune\",provider=\"openai\",route=\"unpriced\"}"))
        .isEqualTo(1);
    assertThat(
            bed.metric(
                "tollgate_cost_usd_total{model=\"my-finetune\",provider=\"openai\",route=\"unpriced\"}"))
        .isZero();
  }

  @Test
  void vertexWithoutAUsableServiceAccountKeySaysSo() throws Exception {
    HttpResponse<String> r =
        bed.post(CHAT, "{\"model\":\"vx\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertOpenAiError(r, 503, ErrorKind.MISSING_CREDENTIAL);
    assertThat(json(r).at("/error/message").asText()).contains("service-account key");
  }

  @Test
  void providerThatNeverAnswersTimesOut() throws Exception {
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.STALL));
    HttpResponse<String> streamed =
        bed.post(
            CHAT,
            "{\"model\":\"impatient\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertOpenAiError(streamed, 504, ErrorKind.UPSTREAM_TIMEOUT);
    assertThat(json(streamed).at("/error/message").asText())
        .contains("no answer from the provider within 300 ms");
    HttpResponse<String> whole =
        bed.post(
            CHAT,
            "{\"model\":\"impatient\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertOpenAiError(whole, 504, ErrorKind.UPSTREAM_TIMEOUT);
    assertThat(json(whole).at("/error/message").asText()).contains("longer than 1000 ms");
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    String first = "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    String second = "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    String requests =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
            + first.length()
            + "\r\n\r\n"
            + first
            + "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
            + second.length()
            + "\r\n\r\n"
            + second;
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", bed.sidecar.port()));
      s.setSoTimeout(10_000);
      s.getOutputStream().write(requests.getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      String answers = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answers)
          .containsSubsequence("HTTP/1.1 200", "t0 t1", "HTTP/1.1 404", "names no route");
    }
  }

  @Test
  void untranslatableContentIsRejectedClearly() throws Exception {
    HttpResponse<String> r =
        bed.post(
            CHAT,
            "{\"model\":\"an\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AAAA\",\"format\":\"wav\"}}]}]}");
    assertOpenAiError(r, 400, ErrorKind.INVALID_REQUEST);
    assertThat(json(r).at("/error/message").asText()).contains("input_audio");
    assertThat(json(r).at("/error/param").asText()).isEqualTo("messages[0].content[0]");
    HttpResponse<String> schema =
        bed.post(
            CHAT,
            "{\"model\":\"an\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{}},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(schema.statusCode()).isEqualTo(400);
    assertThat(json(schema).at("/error/param").asText())
        .isEqualTo("response_format.json_schema.name");
    // the same options are forwarded untouched when the provider speaks the caller's format
    assertThat(
            bed.post(
                    CHAT,
                    "{\"model\":\"oa\",\"n\":2,\"response_format\":{\"type\":\"json_object\"},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .statusCode())
        .isEqualTo(200);
    assertThat(bed.sim.lastRequest().body().path("n").asInt()).isEqualTo(2);
  }
}
