package dev.tollgate.sidecar.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.runtime.ApiKeyStore;
import dev.tollgate.sidecar.runtime.ConfigSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFetcherTest {
  private static final Duration GRACE = Duration.ofSeconds(10);

  @TempDir Path dir;
  private ConfigSource config;
  private final AtomicLong clock = new AtomicLong();
  private final List<String> served = new ArrayList<>();
  private int fetches;
  private ConfigFetcher fetcher;

  private static String config(String version, String route) {
    return "version: "
        + version
        + "\nnamespace: ns\nroutes:\n  - model: "
        + route
        + "\n    tiers:\n      - name: main\n        targets: [{credential: openai, model: gpt-4o}]\n"
        + "credentials:\n  - {name: openai, provider: openai, endpoint: \"http://127.0.0.1:1/v1\","
        + " apiKeyFile: /nonexistent/key}\n";
  }

  @BeforeEach
  void setUp() throws IOException {
    Files.writeString(dir.resolve("config.yaml"), config("v1", "chat"));
    config = new ConfigSource(dir.resolve("config.yaml"), new ApiKeyStore(), new ProxyMetrics());
    config.reload();
    fetcher =
        new ConfigFetcher(
            config,
            GRACE,
            clock::get,
            () -> {
              fetches++;
              if (served.isEmpty()) {
                throw new IOException("operator away");
              }
              return served.remove(0);
            });
  }

  private void reply(String version, long atSeconds) {
    clock.set(Duration.ofSeconds(atSeconds).toNanos());
    fetcher.accept(new ReportReply(1, version, List.of()));
  }

  @Test
  void aConfigurationStaleForLongerThanTheGraceIsFetchedAndApplied() {
    served.add(config("v2", "support"));
    reply("v2", 0);
    reply("v2", 9); // within the grace: the kubelet may still deliver it
    assertThat(fetches).isZero();
    reply("v2", 10);
    assertThat(fetches).isEqualTo(1);
    assertThat(config.current().version()).isEqualTo("v2");
    assertThat(config.current().route("support")).isPresent();
    reply("v2", 20);
    assertThat(fetches).isEqualTo(1);
  }

  @Test
  void aConfigurationThatCatchesUpInTimeIsNotFetched() {
    reply("v2", 0);
    reply("v1", 5); // the operator went back (or the file caught up): in step again
    reply("v2", 12); // a new mismatch starts its own grace
    assertThat(fetches).isZero();
    assertThat(config.current().version()).isEqualTo("v1");
  }

  @Test
  void aFailedOrInvalidFetchIsRetriedAfterAnotherGraceAndKeepsTheConfigurationInForce() {
    reply("v2", 0);
    reply("v2", 10); // operator away
    assertThat(fetches).isEqualTo(1);
    served.add("version: v2\nroutes: [{model: broken}]\n");
    reply("v2", 15);
    assertThat(fetches).isEqualTo(1);
    reply("v2", 20); // rejected by the same validation as the file: v1 stays
    assertThat(fetches).isEqualTo(2);
    assertThat(config.current().version()).isEqualTo("v1");
    served.add(config("v2", "chat"));
    reply("v2", 30);
    assertThat(config.current().version()).isEqualTo("v2");
  }

  // ---- integrity: the operator announces the SHA-256 of what it rendered ----

  private static String tampered(String text) {
    return text.replace("http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1");
  }

  private static String sha(String text) {
    return dev.tollgate.sidecar.config.SidecarConfigCodec.sha256(text);
  }

  private ProxyMetrics metrics;

  /** A source whose mounted file holds {@code text}, with its own metrics. */
  private void mount(String text) throws IOException {
    Files.writeString(dir.resolve("config.yaml"), text);
    metrics = new ProxyMetrics();
    config = new ConfigSource(dir.resolve("config.yaml"), new ApiKeyStore(), metrics);
    config.reload();
    fetcher =
        new ConfigFetcher(
            config,
            GRACE,
            clock::get,
            () -> {
              fetches++;
              if (served.isEmpty()) {
                throw new IOException("operator away");
              }
              return served.remove(0);
            });
  }

  private void announce(String version, String sha256, long atSeconds) {
    clock.set(Duration.ofSeconds(atSeconds).toNanos());
    fetcher.accept(new ReportReply(1, version, List.of(), List.of(), null, sha256));
  }

  private String endpoint() {
    return config.current().credential("openai").orElseThrow().endpoint();
  }

  @Test
  void aTamperedMountRunsOnlyUntilTheFirstReplyThenTheOperatorsCopyRuns() throws IOException {
    String rendered = config("v1", "chat");
    mount(tampered(rendered));
    assertThat(endpoint()).isEqualTo("http://127.0.0.1:2/v1"); // no announcement yet
    served.add(rendered);
    announce("v1", sha(rendered), 0); // the same version name: only the hash tells them apart
    assertThat(fetches).as("fetched at once, no grace").isEqualTo(1);
    assertThat(endpoint()).isEqualTo("http://127.0.0.1:1/v1");
    assertThat(metrics.configIntegrityFailures()).isEqualTo(1);
    announce("v1", sha(rendered), 2);
    assertThat(fetches).isEqualTo(1);
    assertThat(metrics.configIntegrityFailures()).isEqualTo(1);
  }

  @Test
  void aMountEditedAfterTheAnnouncementIsNeverApplied() throws IOException {
    String rendered = config("v1", "chat");
    mount(rendered);
    announce("v1", sha(rendered), 0);
    assertThat(metrics.configIntegrityFailures()).isZero();
    Files.writeString(dir.resolve("config.yaml"), tampered(rendered));
    assertThat(config.reload()).isFalse();
    assertThat(endpoint()).isEqualTo("http://127.0.0.1:1/v1");
    announce("v1", sha(rendered), 2);
    assertThat(endpoint()).isEqualTo("http://127.0.0.1:1/v1");
    assertThat(metrics.configIntegrityFailures()).isEqualTo(1);
    announce("v1", sha(rendered), 4);
    config.reload();
    assertThat(metrics.configIntegrityFailures()).as("one per change").isEqualTo(1);
    assertThat(fetches).isZero();
    // a second, different edit is another change
    Files.writeString(dir.resolve("config.yaml"), tampered(rendered) + "# again\n");
    config.reload();
    announce("v1", sha(rendered), 6);
    assertThat(metrics.configIntegrityFailures()).isEqualTo(2);
    assertThat(endpoint()).isEqualTo("http://127.0.0.1:1/v1");
  }

  @Test
  void aNewVersionTheKubeletDeliversBeforeItsAnnouncementIsAppliedWhenAnnounced()
      throws IOException {
    String v1 = config("v1", "chat");
    String v2 = config("v2", "support");
    mount(v1);
    announce("v1", sha(v1), 0);
    Files.writeString(dir.resolve("config.yaml"), v2);
    config.reload();
    assertThat(config.current().version()).as("held until announced").isEqualTo("v1");
    announce("v2", sha(v2), 2);
    assertThat(config.current().version()).isEqualTo("v2");
    assertThat(fetches).isZero();
    assertThat(metrics.configIntegrityFailures()).isZero();
  }

  @Test
  void aFetchedConfigurationThatDoesNotHashToTheAnnouncedValueIsNotApplied() throws IOException {
    String rendered = config("v1", "chat");
    mount(tampered(rendered));
    served.add(tampered(rendered) + "# not it\n");
    announce("v1", sha(rendered), 0);
    assertThat(fetches).isEqualTo(1);
    assertThat(config.current().version()).isEqualTo("v1");
    assertThat(endpoint()).isEqualTo("http://127.0.0.1:2/v1");
    served.add(rendered);
    announce("v1", sha(rendered), 2); // tried again with the next reply
    assertThat(endpoint()).isEqualTo("http://127.0.0.1:1/v1");
  }

  @Test
  void aVerifiedConfigurationTheOperatorReplacedIsFetchedAfterTheGrace() throws IOException {
    String v1 = config("v1", "chat");
    String v2 = config("v2", "support");
    mount(v1);
    announce("v1", sha(v1), 0);
    served.add(v2);
    announce("v2", sha(v2), 1);
    announce("v2", sha(v2), 10);
    assertThat(fetches).isZero();
    announce("v2", sha(v2), 11);
    assertThat(fetches).isEqualTo(1);
    assertThat(config.current().version()).isEqualTo("v2");
    assertThat(metrics.configIntegrityFailures()).isZero();
  }
}
