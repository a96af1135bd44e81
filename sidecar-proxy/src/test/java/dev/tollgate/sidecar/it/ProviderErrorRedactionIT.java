package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tollgate.simulator.Fault;
import dev.tollgate.simulator.SimulatorBehavior;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/** A provider that quotes the key it was sent in its error message: the caller never sees it. */
class ProviderErrorRedactionIT {
  private static TestBed bed;
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @BeforeEach
  void echoKeys() {
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.ECHO_KEY));
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
  }

  @AfterEach
  void detach() {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    bed.sim.reset();
  }

  @ParameterizedTest
  @CsvSource({
    "/v1/chat/completions, oa, false, " + TestBed.OPENAI_KEY,
    "/v1/chat/completions, oa, true, " + TestBed.OPENAI_KEY,
    "/v1/messages, an, false, " + TestBed.ANTHROPIC_KEY,
    "/v1/messages, an, true, " + TestBed.ANTHROPIC_KEY,
    "/v1/chat/completions, ge, false, " + TestBed.GEMINI_KEY,
    "/v1/chat/completions, az, false, " + TestBed.OPENAI_KEY
  })
  void theKeyAProviderEchoesIsMaskedForTheCallerAndInTheLogs(
      String path, String route, boolean stream, String key) throws Exception {
    String body =
        "{\"model\":\""
            + route
            + "\",\"max_tokens\":20,\"stream\":"
            + stream
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    HttpResponse<String> r = bed.post(path, body);

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body())
        .contains("rejected the request (HTTP 400): ")
        .contains("invalid request with api key [redacted]")
        .doesNotContain(key);
    if (path.equals("/v1/messages")) {
      assertThat(r.body()).contains("\"type\":\"error\"");
    } else {
      assertThat(r.body()).contains("\"error\":{\"message\":");
    }
    assertThat(logs.list).allSatisfy(e -> assertThat(e.getFormattedMessage()).doesNotContain(key));
  }

  @Test
  void aPassthroughErrorBodyHasTheKeyMasked() throws Exception {
    HttpResponse<String> r = bed.get("/v1/files");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body())
        .contains("invalid request with api key [redacted]")
        .doesNotContain(TestBed.OPENAI_KEY);
  }
}
