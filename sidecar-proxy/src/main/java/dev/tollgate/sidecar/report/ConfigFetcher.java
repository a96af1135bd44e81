package dev.tollgate.sidecar.report;

import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.runtime.ConfigSource;
import java.io.IOException;
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
 * Keeps the sidecar on the configuration the operator rendered. Every reply announces the SHA-256
 * of the namespace's rendered configuration ({@link ReportReply#configSha256()}), which {@link
 * ConfigSource#announce} compares with the configuration in force:
 *
 * <ul>
 *   <li>a configuration that was never verified (the mounted file ran before the first reply) and
 *       is not the announced one is replaced at once by the operator's copy ({@code GET
 *       /v1/config}, same HTTPS channel and token as the reports), which must hash to the announced
 *       value: a tampered ConfigMap does not keep running;
 *   <li>a verified configuration the operator has since replaced (the kubelet updates mounted
 *       ConfigMaps only every minute or so) is fetched once it has been stale for longer than the
 *       grace period.
 * </ul>
 *
 * Replies of operators that announce no hash fall back to comparing versions, with the grace
 * period. A failed or rejected fetch is tried again with a later reply. Runs on the reporter's
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
    String sha = reply.configSha256();
    if (sha != null) {
      switch (config.announce(sha)) {
        case IN_STEP -> staleSince = -1;
        case UNVERIFIED ->
            fetch(sha, "the configuration in force is not the one the operator rendered");
        case STALE -> {
          if (graceOver()) {
            fetch(
                sha,
                "the mounted configuration lagged the operator's for over "
                    + grace.toSeconds()
                    + " s");
          }
        }
      }
      return;
    }
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
      boolean applied = config.applyFetched(text, null);
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

  /** True once the configuration has been stale for the grace period (then it starts again). */
  private boolean graceOver() {
    long now = nanoTime.getAsLong();
    if (staleSince < 0) {
      staleSince = now;
      return false;
    }
    if (now - staleSince < grace.toNanos()) {
      return false;
    }
    staleSince = now;
    return true;
  }

  /** Fetches the operator's copy and applies it if it hashes to {@code sha}. */
  private void fetch(String sha, String why) {
    try {
      String text = fetch.fetch();
      boolean applied = config.applyFetched(text, sha);
      SidecarConfig after = config.current();
      LOG.info(
          "{}: fetched it from the operator, {}",
          why,
          applied ? "now running " + (after == null ? "?" : after.version()) : "not applied");
    } catch (IOException e) {
      LOG.warn("cannot fetch the configuration from the operator: {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Fetch https(ReporterSettings settings) {
    OperatorTrust trust = OperatorTrust.of(settings);
    return () -> {
      String token = Files.readString(settings.tokenFile()).trim();
      HttpResponse<String> response =
          trust
              .client()
              .send(
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
