package dev.tollgate.sidecar.it;

import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.ProviderSimulator;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Two simulators playing two providers behind one sidecar on loopback, for tests of where requests
 * go: credential {@code a} is an OpenAI account on {@link #simA}, credential {@code b} an Anthropic
 * account on {@link #simB}. The routes are the test's; key files live in a temporary directory
 * removed on {@link #close()}. One per test class, like {@link TestBed}.
 */
final class TwoProviders implements AutoCloseable {
  final ProviderSimulator simA;
  final ProviderSimulator simB;
  final Path dir;
  final Sidecar sidecar;
  private final SidecarHttp client;

  private TwoProviders(ProviderSimulator simA, ProviderSimulator simB, Path dir, Sidecar sidecar) {
    this.simA = simA;
    this.simB = simB;
    this.dir = dir;
    this.sidecar = sidecar;
    this.client = new SidecarHttp(sidecar.baseUrl());
  }

  /**
   * Starts both simulators and a sidecar whose configuration has {@code routes} (YAML list items)
   * and the credentials {@code a} and {@code b}, then {@code extraCredentials} (YAML list items;
   * {@code %1$s} in them is {@link #simA}'s base URL, {@code %2$s} the key directory, where {@code
   * a.key} and {@code b.key} are).
   */
  static TwoProviders start(String routes, String extraCredentials) throws Exception {
    ProviderSimulator simA = ProviderSimulator.start();
    ProviderSimulator simB = ProviderSimulator.start();
    Path dir = Files.createTempDirectory("tollgate-two-providers-it");
    Files.writeString(dir.resolve("a.key"), "sk-a");
    Files.writeString(dir.resolve("b.key"), "sk-b");
    Path config = dir.resolve("config.yaml");
    Files.writeString(
        config,
        """
        namespace: it
        routes:
        %s
        credentials:
          - {name: a, provider: openai, endpoint: "%s/v1", apiKeyFile: "%s/a.key"}
          - {name: b, provider: anthropic, endpoint: "%s", apiKeyFile: "%s/b.key"}
        """
                .formatted(routes.stripTrailing(), simA.baseUrl(), dir, simB.baseUrl(), dir)
            + extraCredentials.formatted(simA.baseUrl(), dir));
    Sidecar sidecar = Sidecar.start(config, 0, 2, Duration.ofMillis(200));
    return new TwoProviders(simA, simB, dir, sidecar);
  }

  /** Both simulators back to their default behaviour, with their counters at zero. */
  void reset() {
    simA.reset();
    simB.reset();
  }

  HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    return client.post(path, body, headers);
  }

  /** The value of a metric sample in the Prometheus text, or 0 when absent. */
  double metric(String sample) throws Exception {
    return client.metric(sample);
  }

  @Override
  public void close() throws IOException {
    sidecar.shutdown(Duration.ZERO);
    simA.close();
    simB.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
