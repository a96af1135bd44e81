package dev.tollgate.sidecar.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The sidecar in a child JVM started with the container's JVM options ({@code
 * src/main/jvm/jvm.options}: the 96 MiB heap, exit on OutOfMemoryError), so that a test can see it
 * die or be killed as it would in a pod.
 */
final class ChildSidecar implements AutoCloseable {
  private final Process process;
  private final int port;
  final Path log;

  private ChildSidecar(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts a sidecar on {@code config} with the extra environment {@code env}; waits for ready. */
  static ChildSidecar start(Path config, Map<String, String> env) throws Exception {
    return start(config, env, List.of());
  }

  /** As {@link #start(Path, Map)}, with {@code jvmArgs} after the container's JVM options. */
  static ChildSidecar start(Path config, Map<String, String> env, List<String> jvmArgs)
      throws Exception {
    List<String> java = new ArrayList<>();
    java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    java.addAll(options(Path.of("src/main/jvm/jvm.options")));
    java.addAll(jvmArgs);
    return start(java, System.getProperty("java.class.path"), config, env);
  }

  /**
   * The sidecar started by the command {@code java} (the runtime and its options) on {@code
   * classpath}, with the extra environment {@code env}; waits for ready.
   */
  static ChildSidecar start(
      List<String> java, String classpath, Path config, Map<String, String> env) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> cmd = new ArrayList<>(java);
    cmd.addAll(
        List.of(
            "-cp",
            classpath,
            "dev.tollgate.sidecar.SidecarMain",
            "--config",
            config.toString(),
            "--port",
            String.valueOf(port)));
    Path log = Files.createTempFile("tollgate-child-sidecar", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    // any free health port unless the test names one: 4001 may be taken by another sidecar
    pb.environment().put("TOLLGATE_HEALTH_PORT", "0");
    pb.environment().putAll(env);
    ChildSidecar child = new ChildSidecar(pb.start(), port, log);
    child.awaitReady();
    return child;
  }

  /** The options of a JVM options file (one per line; comments and blank lines left out). */
  static List<String> options(Path file) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      if (!line.isBlank() && !line.trim().startsWith("#")) {
        out.add(line.trim());
      }
    }
    return out;
  }

  private void awaitReady() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the child sidecar exited: " + Files.readString(log));
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(baseUrl() + "/readyz")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the child sidecar was not ready in 30 s: " + output());
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  boolean alive() {
    return process.isAlive();
  }

  String output() throws IOException {
    return Files.readString(log);
  }

  /** SIGKILL: no shutdown hook runs. */
  void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      kill();
    }
    Files.deleteIfExists(log);
  }
}
