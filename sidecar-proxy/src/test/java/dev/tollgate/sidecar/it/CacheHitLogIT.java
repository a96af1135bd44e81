package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A response-cache hit costs nothing and says so: an alert on unpriced calls must not fire. */
class CacheHitLogIT {
  @Test
  void aCacheHitIsLoggedAsPricedAtZero() throws Exception {
    Logger callLogger = (Logger) LoggerFactory.getLogger("tollgate.call");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    callLogger.addAppender(appender);
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.start();
    try (TestBed bed =
        TestBed.start(
            """
              - model: cached
                cache: {response: {enabled: true}}
                tiers:
                  - name: main
                    targets: [{credential: openai, model: gpt-4o-mini}]
            """)) {
      String body =
          "{\"model\":\"cached\",\"temperature\":0,"
              + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
      assertThat(bed.post("/v1/chat/completions", body).statusCode()).isEqualTo(200);
      var hit = bed.post("/v1/chat/completions", body);
      assertThat(hit.headers().firstValue("x-tollgate-cache")).contains("hit");
      List<ILoggingEvent> events = appender.list;
      String line =
          new String(encoder.encode(events.get(events.size() - 1)), StandardCharsets.UTF_8);
      assertThat(line).contains("\"route\":\"cached\"", "\"priced\":true");
    } finally {
      callLogger.detachAppender(appender);
    }
  }
}
