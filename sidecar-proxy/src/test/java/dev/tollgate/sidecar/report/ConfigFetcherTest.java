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
}
