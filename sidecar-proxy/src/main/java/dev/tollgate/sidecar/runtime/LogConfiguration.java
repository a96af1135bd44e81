package dev.tollgate.sidecar.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.io.OutputStream;
import java.util.Map;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashCommonFieldNames;

/**
 * The sidecar's logging, set up in code (logback's {@link Configurator} service, found through
 * {@code META-INF/services}) instead of a {@code logback.xml}: parsing XML loaded ~120 classes of
 * the JDK's Xerces and ~100 of logback's Joran at every start (issue #24).
 *
 * <p>One JSON object per line on stdout, for the per-call line (logger {@code tollgate.call}) and
 * everything else, written by a {@link BatchedStdoutAppender} (queue of 8,192 lines, written every
 * 20 ms). Levels: the root logger at {@code TOLLGATE_LOG_LEVEL} (system property or environment;
 * default INFO), {@code io.netty} at WARN.
 *
 * <p>When the classpath or {@code -Dlogback.configurationFile} supplies an XML configuration
 * (tests' {@code logback-test.xml}, the operator's {@code logback.xml} in local mode's single jar,
 * the benchmarks' override) this configurator steps aside and logback reads that file as before.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class LogConfiguration extends ContextAwareBase implements Configurator {
  static final String LEVEL_VARIABLE = "TOLLGATE_LOG_LEVEL";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || resource("logback-test.xml")
        || resource("logback.xml")) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    apply(context, level(System.getProperty(LEVEL_VARIABLE), System.getenv()), null);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /**
   * Installs the JSON appender on the root logger at {@code rootLevel}, writing to {@code sink}
   * (tests) or, when null, to stdout.
   */
  static void apply(LoggerContext context, Level rootLevel, OutputStream sink) {
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(context);
    encoder.setIncludeContext(false);
    encoder.getFieldNames().setLevelValue(LogstashCommonFieldNames.IGNORE_FIELD_INDICATOR);
    encoder.getFieldNames().setVersion(LogstashCommonFieldNames.IGNORE_FIELD_INDICATOR);
    encoder.start();
    BatchedStdoutAppender appender =
        sink == null ? new BatchedStdoutAppender() : new BatchedStdoutAppender(sink);
    appender.setContext(context);
    appender.setName("json");
    appender.setQueueSize(8192);
    appender.setFlushIntervalMillis(20);
    appender.setEncoder(encoder);
    appender.start();
    context.getLogger("io.netty").setLevel(Level.WARN);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(rootLevel);
    root.addAppender(appender);
  }

  /**
   * The root level: {@code property} if set, else {@value #LEVEL_VARIABLE} from {@code env}, else
   * INFO (also for a value that names no level).
   */
  static Level level(String property, Map<String, String> env) {
    String v = property != null ? property : env.get(LEVEL_VARIABLE);
    return v == null || v.isBlank() ? Level.INFO : Level.toLevel(v.trim(), Level.INFO);
  }

  private static boolean resource(String name) {
    ClassLoader loader = LogConfiguration.class.getClassLoader();
    return loader != null && loader.getResource(name) != null;
  }
}
