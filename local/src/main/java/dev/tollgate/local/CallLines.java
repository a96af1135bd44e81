package dev.tollgate.local;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.OutputStream;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.LoggerFactory;

/**
 * With {@code --verbose}, every sidecar call is printed as one JSON line with its fields (route,
 * model, tokens, {@code cost_usd}, latency...). The call log's fields are structured arguments that
 * only a JSON encoder writes; the text logs local mode shares with the operator would show the bare
 * message {@code llm_call}.
 */
final class CallLines {
  private static final String LOGGER = "tollgate.call";
  private static final String APPENDER = "local-call-lines";

  private CallLines() {}

  /** Prints the call log to {@code out}, one JSON object per line, and nowhere else. */
  static void printTo(OutputStream out) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(context);
    encoder.setIncludeContext(false);
    encoder.start();
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setName(APPENDER);
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.setOutputStream(out);
    appender.setImmediateFlush(true);
    appender.start();
    Logger calls = context.getLogger(LOGGER);
    calls.detachAppender(APPENDER);
    calls.addAppender(appender);
    calls.setAdditive(false);
    calls.setLevel(Level.INFO);
  }
}
