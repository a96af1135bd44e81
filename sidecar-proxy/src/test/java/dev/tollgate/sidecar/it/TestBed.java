package dev.tollgate.sidecar.it;

import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.ProviderSimulator;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A simulator and a sidecar on loopback ephemeral ports, with a configuration file and key files in
 * a temporary directory: one per integration test class.
 */
final class TestBed implements AutoCloseable {
  static final String OPENAI_KEY = "sk-openai-test";
  static final String ANTHROPIC_KEY = "sk-ant-test";
  static final String GEMINI_KEY = "gem-test";
  static final String BEDROCK_KEY = "bedrock-api-key-test";

  final ProviderSimulator sim;
  final Path dir;
  final Path configFile;
  final Sidecar sidecar;
  final HttpClient http;
  private final SidecarHttp client;

  private TestBed(ProviderSimulator sim, Path dir, Path configFile, Sidecar sidecar) {
    this.sim = sim;
    this.dir = dir;
    this.configFile = configFile;
    this.sidecar = sidecar;
    this.client = new SidecarHttp(sidecar.baseUrl());
    this.http = client.http;
  }

  static TestBed start() throws Exception {
    return start("");
  }

  /** A test bed whose configuration has {@code extraRoutes} (YAML list items) too. */
  static TestBed start(String extraRoutes) throws Exception {
    return start(extraRoutes, "");
  }

  /**
   * A test bed with {@code extraRoutes} and {@code extraCredentials} (YAML list items; {@code %1$s}
   * in them is the simulator's base URL, {@code %2$s} the key directory).
   */
  static TestBed start(String extraRoutes, String extraCredentials) throws Exception {
    ProviderSimulator sim = ProviderSimulator.start();
    Path dir = Files.createTempDirectory("tollgate-it");
    Files.writeString(dir.resolve("openai.key"), OPENAI_KEY + "\n");
    Files.writeString(dir.resolve("anthropic.key"), ANTHROPIC_KEY);
    Files.writeString(dir.resolve("gemini.key"), GEMINI_KEY);
    Files.writeString(dir.resolve("bedrock.key"), BEDROCK_KEY);
    Path config = dir.resolve("config.yaml");
    Files.writeString(
        config,
        config(sim.baseUrl(), dir, extraRoutes) + extraCredentials.formatted(sim.baseUrl(), dir));
    Sidecar sidecar = Sidecar.start(config, 0, 2, Duration.ofMillis(200));
    return new TestBed(sim, dir, config, sidecar);
  }

  /**
   * The standard configuration: one route per provider kind, plus {@code extraRoutes}. These routes
   * neither retry nor eject their target, so that tests see each provider failure mapped as it is
   * (retries, failover and circuit breaking are tested in {@code RoutingIT}).
   */
  static String config(String sim, Path dir, String extraRoutes) {
    return """
        namespace: it
        server:
          maxRequestBodyBytes: 65536
          maxBatchUploadBytes: 262144
          clientReadTimeout: 500ms
          shutdownGrace: 5s
        routes:
          - model: oa
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            tiers:
              - name: main
                targets: [{credential: openai, model: gpt-4o-mini}]
          - model: an
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            tiers:
              - name: main
                targets: [{credential: anthropic, model: claude-3-5-sonnet-20241022}]
          - model: ge
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            tiers:
              - name: main
                targets: [{credential: gemini, model: gemini-1.5-flash}]
          - model: az
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            tiers:
              - name: main
                targets: [{credential: azure, model: gpt-4o}]
          - model: unpriced
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            tiers:
              - name: main
                targets: [{credential: openai, model: my-finetune}]
          - model: br
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            tiers:
              - name: main
                targets: [{credential: bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0"}]
          - model: vx
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            tiers:
              - name: main
                targets: [{credential: vertex, model: gemini-1.5-flash}]
          - model: impatient
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            timeouts: {firstToken: 300ms, total: 1s}
            tiers:
              - name: main
                targets: [{credential: openai, model: gpt-4o-mini}]
        %s
        credentials:
          - {name: openai, provider: openai, endpoint: "%s/v1", apiKeyFile: "%s/openai.key"}
          - {name: anthropic, provider: anthropic, endpoint: "%s", apiKeyFile: "%s/anthropic.key"}
          - {name: gemini, provider: gemini, endpoint: "%s", apiKeyFile: "%s/gemini.key"}
          - name: azure
            provider: azure-openai
            endpoint: "%s"
            apiKeyFile: "%s/openai.key"
            azure: {deployment: prod-4o}
          - name: bedrock
            provider: bedrock
            endpoint: "%s"
            apiKeyFile: "%s/bedrock.key"
            bedrock: {region: us-east-1}
          - name: vertex
            provider: vertex-ai
            apiKeyFile: "%s/gemini.key"
            vertex: {project: p, location: us-east5}
        """
        .formatted(extraRoutes, sim, dir, sim, dir, sim, dir, sim, dir, sim, dir, dir);
  }

  String url(String path) {
    return sidecar.baseUrl() + path;
  }

  HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    return client.post(path, body, headers);
  }

  HttpResponse<String> get(String path) throws Exception {
    return client.get(path);
  }

  /** The value of a metric sample in the Prometheus text, or 0 when absent. */
  double metric(String sample) throws Exception {
    return client.metric(sample);
  }

  @Override
  public void close() throws IOException {
    sidecar.shutdown(Duration.ZERO);
    sim.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
