package dev.tollgate.sidecar.report;

import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.runtime.ConfigSource;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Catches a stale mounted configuration: every reply names the version the operator rendered for
 * the namespace; when the configuration in force has differed from it for longer than the grace
 * period (the kubelet updates mounted ConfigMaps only every minute or so), the sidecar fetches the
 * rendered configuration from the operator ({@code GET /v1/config}, same HTTPS channel and token as
 * the reports) and applies it through {@link ConfigSource#applyFetched}, exactly as a reload of the
 * file. A failed or rejected fetch is tried again one grace period later. Runs on the reporter's
 * thread.
 */
public final class ConfigFetcher implements Consumer<ReportReply> {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigFetcher.class);

  /** Fetches the namespace's rendered configuration, or throws. */
  interface Fetch {
    String fetch() throws IOException, InterruptedException;
  }

  private final ConfigSource config;
  private final Duration grace;
  private final LongSupplier nanoTime;
  private final Fetch fetch;
  private long staleSince = -1; // reporter thread only; -1: in step with the operator

  /** Fetches over HTTPS from the operator named by {@code settings}. */
  public ConfigFetcher(ReporterSettings settings, ConfigSource config) {
    this(config, settings.configFetchGrace(), System::nanoTime, https(settings));
  }

  ConfigFetcher(ConfigSource config, Duration grace, LongSupplier nanoTime, Fetch fetch) {
    this.config = config;
    this.grace = grace;
    this.nanoTime = nanoTime;
    this.fetch = fetch;
  }

  @Override
  public void accept(ReportReply reply) {
    String wanted = reply.configVersion();
    SidecarConfig current = config.current();
    if (wanted == null || (current != null && Objects.equals(wanted, current.version()))) {
      staleSince = -1;
      return;
    }
    long now = nanoTime.getAsLong();
    if (staleSince < 0) {
      staleSince = now;
      return;
    }
    if (now - staleSince < grace.toNanos()) {
      return;
    }
    staleSince = now; // the next try, if this one does not bring the version, after another grace
    try {
      String text = fetch.fetch();
      boolean applied = config.applyFetched(text);
      SidecarConfig after = config.current();
      LOG.info(
          "the mounted configuration ({}) lagged the operator's ({}) for over {} s: fetched it, {}",
          current == null ? "none" : current.version(),
          wanted,
          grace.toSeconds(),
          applied ? "now running " + (after == null ? "?" : after.version()) : "not applied");
    } catch (IOException e) {
      LOG.warn("cannot fetch the configuration from the operator: {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Fetch https(ReporterSettings settings) {
    HttpClient http =
        HttpClient.newBuilder()
            .sslContext(Reporter.trusting(settings.caPem()))
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    return () -> {
      String token = Files.readString(settings.tokenFile()).trim();
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(settings.configUrl())
                  .timeout(Duration.ofSeconds(5))
                  .header("Authorization", "Bearer " + token)
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      if (response.statusCode() != 200) {
        throw new IOException(
            "GET "
                + settings.configUrl()
                + ": HTTP "
                + response.statusCode()
                + " "
                + response.body());
      }
      return response.body();
    };
  }
}
