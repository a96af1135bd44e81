package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import java.nio.charset.StandardCharsets;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** End users and feature tags in the call log and the bounded metrics. */
class AttributionIT {

  @Test
  void userFeatureAndRequestFactsReachTheLogAndBoundedMetrics() throws Exception {
    Logger callLogger = (Logger) LoggerFactory.getLogger("tollgate.call");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    callLogger.addAppender(appender);
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.start();
    try (TestBed bed = TestBed.start()) {
      String body =
          "{\"model\":\"oa\",\"temperature\":0.2,\"max_tokens\":64,\"user\":\"body-user\","
              + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
              + "\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},"
              + "{\"role\":\"user\",\"content\":\"hi\"}]}";
      assertThat(
              bed.post(
                      "/v1/chat/completions",
                      body,
                      "x-tollgate-user",
                      "alice",
                      "x-tollgate-feature",
                      "support-chat",
                      "x-tollgate-conversation",
                      "conv-1")
                  .statusCode())
          .isEqualTo(200);
      String line =
          new String(
              encoder.encode(appender.list.get(appender.list.size() - 1)), StandardCharsets.UTF_8);
      assertThat(line)
          .contains(
              "\"user\":\"alice\"",
              "\"feature\":\"support-chat\"",
              "\"conversation_id\":\"conv-1\"",
              "\"temperature\":0.2",
              "\"max_tokens\":64",
              "\"system_prompt_hash\":\"sha256:",
              "\"tools\":1",
              "\"tool_calls\":0")
          .doesNotContain("You are terse");

      // the body's user when no header names one; an Anthropic caller's metadata.user_id
      bed.post("/v1/chat/completions", body);
      assertThat(bed.metric("tollgate_user_requests_total{user=\"body-user\"}")).isEqualTo(1);
      bed.post(
          "/v1/messages",
          "{\"model\":\"an\",\"max_tokens\":10,\"metadata\":{\"user_id\":\"bob\"},"
              + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
      assertThat(bed.metric("tollgate_user_requests_total{user=\"bob\"}")).isEqualTo(1);
      assertThat(bed.metric("tollgate_user_requests_total{user=\"alice\"}")).isEqualTo(1);
      assertThat(bed.metric("tollgate_user_cost_usd_total{user=\"alice\"}")).isPositive();
      assertThat(
              bed.metric("tollgate_feature_requests_total{feature=\"support-chat\",route=\"oa\"}"))
          .isEqualTo(1);
      assertThat(
              bed.metric(
                  "tollgate_feature_time_to_first_token_seconds_count{feature=\"support-chat\",model=\"gpt-4o-mini\"}"))
          .isEqualTo(1);

      // users beyond the cap share one series
      for (int i = 0; i < ProxyMetrics.MAX_USERS + 5; i++) {
        bed.post("/v1/chat/completions", body, "x-tollgate-user", "user-" + i);
      }
      String metrics = bed.get("/metrics").body();
      long series =
          metrics.lines().filter(l -> l.startsWith("tollgate_user_requests_total{")).count();
      assertThat(series).isEqualTo(ProxyMetrics.MAX_USERS + 1);
      assertThat(bed.metric("tollgate_user_requests_total{user=\"_other\"}")).isPositive();
    } finally {
      callLogger.detachAppender(appender);
    }
  }
}
