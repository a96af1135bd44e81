package dev.tollgate.sidecar.runtime;

import static net.logstash.logback.argument.StructuredArguments.entries;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogConfigurationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void writesOneJsonObjectPerLineWithTheFieldsTheXmlConfigurationWrote() throws Exception {
    LoggerContext ctx = new LoggerContext();
    ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    LogConfiguration.apply(ctx, Level.INFO, sink);

    ctx.getLogger("dev.tollgate.sidecar.Example").info("started on {}", 4000);
    ctx.getLogger("dev.tollgate.sidecar.Example").debug("not at INFO");
    ctx.getLogger("io.netty.channel.Example").info("netty below WARN is dropped");
    ctx.getLogger("io.netty.channel.Example").warn("netty warning");
    ctx.getLogger("tollgate.call")
        .info("call", entries(Map.of("model", "gpt-4o-mini", "status", 200)));
    Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getAppender("json")).isInstanceOf(BatchedStdoutAppender.class);
    root.getAppender("json").stop(); // writes out the queue

    String text = sink.toString(StandardCharsets.UTF_8);
    List<JsonNode> lines = new ArrayList<>();
    for (String line : text.split("\n")) {
      lines.add(JSON.readTree(line));
    }
    assertThat(lines)
        .as(text + ctx.getStatusManager().getCopyOfStatusList())
        .extracting(l -> l.path("message").asText())
        .containsExactly("started on 4000", "netty warning", "call");
    JsonNode first = lines.get(0);
    assertThat(first.get("level").asText()).isEqualTo("INFO");
    assertThat(first.get("logger_name").asText()).isEqualTo("dev.tollgate.sidecar.Example");
    assertThat(first.has("@timestamp")).isTrue();
    assertThat(first.has("thread_name")).isTrue();
    // left out, as the XML configuration did: level_value, @version and the context's properties
    assertThat(first.has("level_value")).isFalse();
    assertThat(first.has("@version")).isFalse();
    assertThat(first.has("HOSTNAME")).isFalse();
    JsonNode call = lines.get(2);
    assertThat(call.get("model").asText()).isEqualTo("gpt-4o-mini");
    assertThat(call.get("status").asInt()).isEqualTo(200);
  }

  @Test
  void rootLevelFromThePropertyThenTheEnvironmentElseInfo() {
    assertThat(LogConfiguration.level(null, Map.of())).isEqualTo(Level.INFO);
    assertThat(LogConfiguration.level(null, Map.of("TOLLGATE_LOG_LEVEL", " ")))
        .isEqualTo(Level.INFO);
    assertThat(LogConfiguration.level(null, Map.of("TOLLGATE_LOG_LEVEL", "warn")))
        .isEqualTo(Level.WARN);
    assertThat(LogConfiguration.level("DEBUG", Map.of("TOLLGATE_LOG_LEVEL", "WARN")))
        .isEqualTo(Level.DEBUG);
    assertThat(LogConfiguration.level(null, Map.of("TOLLGATE_LOG_LEVEL", "loud")))
        .isEqualTo(Level.INFO);
  }

  @Test
  void stepsAsideWhenTheClasspathHasAnXmlConfiguration() {
    // the tests' logback-test.xml is on the classpath: logback reads it, as before
    LoggerContext ctx = new LoggerContext();
    LogConfiguration c = new LogConfiguration();
    c.setContext(ctx);
    assertThat(c.configure(ctx)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(ctx.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
  }
}
