package dev.tollgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JDK's TLS stack (~400 classes and a second of CPU on a small machine) is initialised only
 * when the configuration has an https endpoint that trusts the system's CAs (issue #24).
 */
class SystemTrustOnDemandTest {
  @TempDir Path dir;

  private boolean systemTrustRequested(String endpoint) throws Exception {
    Files.writeString(dir.resolve("key"), "k\n");
    Path config = dir.resolve("config.yaml");
    Files.writeString(
        config,
        """
        namespace: test
        routes:
          - model: m
            tiers: [{name: main, targets: [{credential: c, model: gpt-4o-mini}]}]
        credentials:
          - {name: c, provider: openai, endpoint: "%s", apiKeyFile: "%s"}
        """
            .formatted(endpoint, dir.resolve("key")));
    try (Sidecar sidecar = Sidecar.start(config, 0, 1, Duration.ofSeconds(30))) {
      assertThat(sidecar.config().current()).isNotNull();
      return sidecar.context().upstream().systemTrustRequested();
    }
  }

  @Test
  void plainHttpEndpointsDoNotBuildTheSystemTrustContext() throws Exception {
    assertThat(systemTrustRequested("http://127.0.0.1:9/v1")).isFalse();
  }

  @Test
  void anHttpsEndpointBuildsItInTheBackgroundWhenTheConfigurationIsApplied() throws Exception {
    assertThat(systemTrustRequested("https://api.openai.com/v1")).isTrue();
  }
}
