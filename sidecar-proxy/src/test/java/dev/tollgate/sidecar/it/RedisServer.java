package dev.tollgate.sidecar.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} on a free loopback port, without persistence, in a temporary
 * directory: started by a test, stopped by it. CI installs Debian's redis-server; a machine without
 * it fails the test with a message saying so rather than skipping it.
 */
public final class RedisServer implements AutoCloseable {
  public final int port;
  public final String password;
  public final Path dir;
  private final Process process;

  private RedisServer(int port, String password, Path dir, Process process) {
    this.port = port;
    this.password = password;
    this.dir = dir;
    this.process = process;
  }

  public static RedisServer start(String password) throws Exception {
    Path binary = find();
    Path dir = Files.createTempDirectory("tollgate-redis");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process p =
        new ProcessBuilder(
                List.of(
                    binary.toString(),
                    "--port",
                    Integer.toString(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    dir.toString(),
                    "--requirepass",
                    password))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile())
            .start();
    RedisServer r = new RedisServer(port, password, dir, p);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!r.accepting()) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        String log = Files.readString(dir.resolve("redis.log"));
        r.close();
        throw new IllegalStateException("redis-server did not start on port " + port + ":\n" + log);
      }
      Thread.sleep(20);
    }
    return r;
  }

  private static Path find() {
    String path = System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/local/bin:/usr/sbin";
    for (String d : path.split(":")) {
      Path candidate = Path.of(d.isEmpty() ? "." : d, "redis-server");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new AssertionError(
        "redis-server is not installed, and the shared response cache test needs a real one: "
            + "install it (Debian/Ubuntu: apt-get install redis-server), or run scripts/test.sh, which does");
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  private boolean accepting() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Stops the server (the test may do so early, to see calls survive Redis going away). */
  public void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws Exception {
    stop();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
