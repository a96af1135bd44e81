package dev.tollgate.sidecar;

import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of the sidecar proxy: {@code java -jar tollgate-sidecar.jar --config
 * /etc/tollgate/config.yaml [--port 4000]} (or {@code TOLLGATE_CONFIG}, {@code TOLLGATE_PORT}). On
 * SIGTERM it stops accepting and lets calls in flight finish for the configured grace period.
 */
public final class SidecarMain {
  private static final Logger LOG = LoggerFactory.getLogger(SidecarMain.class);

  private SidecarMain() {}

  public static void main(String[] args) throws Exception {
    // Netty's leak tracking records a stack trace for sampled buffers (~1.4% of the CPU at 2,000
    // req/s, issue #24): off in production unless -Dio.netty.leakDetection.level asks for it; the
    // tests run it at paranoid (sidecar-proxy/pom.xml)
    if (System.getProperty("io.netty.leakDetection.level") == null) {
      io.netty.util.ResourceLeakDetector.setLevel(
          io.netty.util.ResourceLeakDetector.Level.DISABLED);
    }
    String config = System.getenv().getOrDefault("TOLLGATE_CONFIG", "/etc/tollgate/config.yaml");
    String port = System.getenv("TOLLGATE_PORT");
    if (args.length == 1 && args[0].equals("--train")) {
      // the image build's training run: see Training
      Training.run(20);
      System.exit(0);
    }
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--config" -> config = args[i + 1];
        case "--port" -> port = args[i + 1];
        default -> {
          System.err.println(
              "unknown option " + args[i] + "; usage: --config FILE [--port N] | --train");
          System.exit(2);
        }
      }
    }
    int threads;
    try {
      threads = eventLoops(System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    Sidecar sidecar =
        Sidecar.start(
            Path.of(config),
            port == null ? null : Integer.valueOf(port),
            threads,
            Duration.ofSeconds(2),
            reporting());
    sidecar.traced(tracing());
    try {
      sidecar
          .context()
          .attributionHeaders(
              dev.tollgate.sidecar.metering.Attribution.Headers.fromEnv(System.getenv()));
    } catch (IllegalArgumentException e) {
      System.err.println("attribution headers are misconfigured: " + e.getMessage());
      System.exit(2);
    }
    try {
      sidecar
          .context()
          .metrics()
          .conversationCosts(
              dev.tollgate.sidecar.metering.ConversationCosts.fromEnv(System.getenv()));
    } catch (IllegalArgumentException e) {
      LOG.error("{}; conversations are counted over the default threshold", e.getMessage());
    }
    sidecar.serveHealth(health());
    // from the process's start (as the kernel counts it) to the probes answering
    LOG.info("ready {} ms after the process started", sinceProcessStart());
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  LOG.info("termination signal: draining calls in flight");
                  sidecar.close();
                  // log lines are written by a background appender: flush them before exit
                  if (LoggerFactory.getILoggerFactory()
                      instanceof ch.qos.logback.classic.LoggerContext logback) {
                    logback.stop();
                  }
                },
                "tollgate-shutdown"));
    Thread.currentThread().join();
  }

  /**
   * Milliseconds since this process started: the kernel's start time of the process against its
   * uptime ({@code /proc/self/stat} and {@code /proc/uptime}, both in 10 ms steps from the same
   * clock), else, without them, since the JVM started. Not {@code ProcessHandle.Info.startInstant}:
   * the JDK adds the boot time ({@code btime}, whole seconds) to the start ticks, so that read up
   * to a second late (ready logged at ~2,100 ms for a sidecar that answered its first call ~1,400
   * ms after spawn).
   */
  static long sinceProcessStart() {
    try {
      return sinceProcessStart(
          java.nio.file.Files.readString(Path.of("/proc/self/stat")),
          java.nio.file.Files.readString(Path.of("/proc/uptime")));
    } catch (java.io.IOException | RuntimeException e) {
      return java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
    }
  }

  /**
   * The time between the process's start ({@code starttime}, field 22 of {@code stat}, in the
   * kernel's 100-per-second clock ticks since boot) and {@code uptime} (seconds since boot), in
   * milliseconds.
   *
   * @throws IllegalArgumentException for text that is not in those formats
   */
  static long sinceProcessStart(String stat, String uptime) {
    // the command name (field 2) is in parentheses and may hold spaces: count after its end
    int end = stat.lastIndexOf(')');
    String[] fields = stat.substring(end + 1).trim().split("\\s+");
    if (end < 0 || fields.length < 20) {
      throw new IllegalArgumentException("not a /proc/<pid>/stat line");
    }
    long startTicks = Long.parseLong(fields[19]);
    double up = Double.parseDouble(uptime.trim().split("\\s+")[0]);
    return Math.round(up * 1000) - startTicks * 10;
  }

  /**
   * Event-loop threads when {@value #EVENT_LOOPS_ENV} is not set (fewer when the JVM sees fewer
   * CPUs).
   */
  static final int DEFAULT_EVENT_LOOPS = 2;

  static final String EVENT_LOOPS_ENV = "TOLLGATE_EVENT_LOOPS";

  /**
   * The event-loop threads that serve calls: {@value #EVENT_LOOPS_ENV} (1 to 64), else {@value
   * #DEFAULT_EVENT_LOOPS} or the CPUs the JVM sees if fewer. Not the CPU count by default: with a
   * CPU request and no limit the JVM sees the node's cores, and a sidecar on a 64-core node would
   * otherwise run 64 event loops (each with its own upstream connection pools) for one application.
   */
  static int eventLoops(java.util.Map<String, String> env) {
    String v = env.get(EVENT_LOOPS_ENV);
    if (v == null || v.isBlank()) {
      return Math.max(1, Math.min(DEFAULT_EVENT_LOOPS, Runtime.getRuntime().availableProcessors()));
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= 1 && n <= 64) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException(
        EVENT_LOOPS_ENV + " must be a whole number from 1 to 64, not " + v);
  }

  /**
   * OpenTelemetry traces from the standard {@code OTEL_*} environment; a malformed setting is
   * logged and the sidecar runs without traces (calls matter more than their traces).
   */
  private static dev.tollgate.sidecar.trace.Tracing tracing() {
    dev.tollgate.sidecar.trace.Tracing t;
    try {
      t =
          dev.tollgate.sidecar.trace.Tracing.start(
              dev.tollgate.sidecar.trace.TracingSettings.fromEnv(System.getenv()));
    } catch (IllegalArgumentException e) {
      LOG.error("tracing is misconfigured, running without traces: {}", e.getMessage());
      t = dev.tollgate.sidecar.trace.Tracing.off();
    }
    LOG.info("{}", t.describe());
    return t;
  }

  /** Where kubelet probes and Prometheus reach the sidecar (exits on a malformed setting). */
  private static dev.tollgate.sidecar.config.HealthSettings health() {
    try {
      return dev.tollgate.sidecar.config.HealthSettings.fromEnv(System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("health listener is misconfigured: " + e.getMessage());
      System.exit(2);
      return null;
    }
  }

  /**
   * Reporting settings from the environment the injection webhook set, or null (exits on error).
   */
  private static dev.tollgate.sidecar.report.ReporterSettings reporting() {
    try {
      return dev.tollgate.sidecar.report.ReporterSettings.fromEnv(System.getenv());
    } catch (IllegalArgumentException | java.io.IOException e) {
      System.err.println("reporting to the operator is misconfigured: " + e.getMessage());
      System.exit(2);
      return null;
    }
  }
}
