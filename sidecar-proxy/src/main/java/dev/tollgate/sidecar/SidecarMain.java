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
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--config" -> config = args[i + 1];
        case "--port" -> port = args[i + 1];
        default -> {
          System.err.println("unknown option " + args[i] + "; usage: --config FILE [--port N]");
          System.exit(2);
        }
      }
    }
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
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
    sidecar.serveHealth(health());
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
