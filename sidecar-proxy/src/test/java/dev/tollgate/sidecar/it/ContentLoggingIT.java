package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The per-call log line: the seed's fields, and prompt/answer text only when enabled. */
class ContentLoggingIT {
  private static final String SECRET_PROMPT = "my card number is 4111-1111";

  @Test
  void promptAndAnswerAreLoggedOnlyWhenEnabled() throws Exception {
    Logger callLogger = (Logger) LoggerFactory.getLogger("tollgate.call");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    callLogger.addAppender(appender);
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.start();
    try (TestBed bed = TestBed.start()) {
      String body =
          "{\"model\":\"an\",\"messages\":[{\"role\":\"user\",\"content\":\""
              + SECRET_PROMPT
              + "\"}]}";
      assertThat(bed.post("/v1/chat/completions", body).statusCode()).isEqualTo(200);
      String line =
          new String(
              encoder.encode(appender.list.get(appender.list.size() - 1)), StandardCharsets.UTF_8);
      assertThat(line)
          .contains(
              "\"request_id\":\"",
              "\"route\":\"an\"",
              "\"tier\":\"main\"",
              "\"provider\":\"anthropic\"",
              "\"model\":\"claude-3-5-sonnet-20241022\"",
              "\"input_tokens\":",
              "\"output_tokens\":8",
              "\"cache_read_input_tokens\":0",
              "\"cost_usd\":\"",
              "\"latency_ms\":",
              "\"ttft_ms\":",
              "\"finish_reason\":\"stop\"",
              "\"status\":200",
              "\"failovers\":0")
          .doesNotContain(SECRET_PROMPT)
          .doesNotContain("t0 t1");

      String withContent =
          TestBed.config(bed.sim.baseUrl(), bed.dir, "")
              .replace("shutdownGrace: 5s", "shutdownGrace: 5s\n  logContent: true");
      Files.writeString(bed.configFile, withContent);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> bed.sidecar.config().current().server().logContent());
      assertThat(bed.post("/v1/chat/completions", body).statusCode()).isEqualTo(200);
      List<ILoggingEvent> events = appender.list;
      String enabled =
          new String(encoder.encode(events.get(events.size() - 1)), StandardCharsets.UTF_8);
      assertThat(enabled)
          .contains("\"prompt\":\"" + SECRET_PROMPT + "\"")
          .contains("\"answer\":\"t0 t1 t2");
    } finally {
      callLogger.detachAppender(appender);
    }
  }
}
