package dev.tollgate.operator.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.batch.BatchResults;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Anthropic Message Batches, read with the credential's key: {@code GET /v1/messages/batches/{id}}
 * for its {@code processing_status}, and once it is {@code ended} {@code GET
 * /v1/messages/batches/{id}/results} (JSONL), streamed line by line through {@link BatchResults}.
 * The results are always fetched from the credential's own endpoint, never from the {@code
 * results_url} the answer names, so the key goes nowhere else. Every request has a deadline: {@link
 * #STATUS_TIMEOUT} for the status, {@link #RESULTS_TIMEOUT} for the whole results download (the
 * stream is closed when it passes).
 */
public final class AnthropicBatches implements ProviderBatches {
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration STATUS_TIMEOUT = Duration.ofSeconds(15);
  static final Duration RESULTS_TIMEOUT = Duration.ofMinutes(10);
  static final int MAX_STATUS_BYTES = 256 * 1024;
  static final String VERSION = "2023-06-01";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http;
  private final ScheduledExecutorService deadlines =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "tollgate-batch-deadlines");
            t.setDaemon(true);
            return t;
          });

  public AnthropicBatches() {
    this(HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build());
  }

  AnthropicBatches(HttpClient http) {
    this.http = http;
  }

  @Override
  public Poll poll(CredentialConfig credential, String apiKey, String id, PriceCatalogue prices) {
    String base = base(credential);
    if (base == null) {
      return new Failed("NoEndpoint", "credential " + credential.name() + " has no endpoint", true);
    }
    try {
      HttpResponse<InputStream> status =
          http.send(request(base + "/v1/messages/batches/" + id, apiKey, STATUS_TIMEOUT), body());
      byte[] bytes;
      try (InputStream in = status.body()) {
        bytes = in.readNBytes(MAX_STATUS_BYTES);
      }
      Poll refused = refused(status.statusCode(), id, "status");
      if (refused != null) {
        return refused;
      }
      JsonNode batch = parse(bytes);
      String processing = batch == null ? "" : batch.path("processing_status").asText("");
      if (processing.isEmpty()) {
        return new Failed(
            "UnreadableBatch",
            "Anthropic's answer for batch " + id + " has no processing_status",
            false);
      }
      if (!"ended".equals(processing)) {
        return new Running(processing);
      }
      HttpResponse<InputStream> results =
          http.send(
              request(base + "/v1/messages/batches/" + id + "/results", apiKey, STATUS_TIMEOUT),
              body());
      try (InputStream in = results.body()) {
        Poll gone = refused(results.statusCode(), id, "results");
        if (gone != null) {
          return gone;
        }
        // the whole download is bounded: closing the stream ends a read that hangs
        ScheduledFuture<?> deadline =
            deadlines.schedule(
                () -> {
                  try {
                    in.close();
                  } catch (IOException ignored) {
                    // closing is all that matters
                  }
                },
                RESULTS_TIMEOUT.toMillis(),
                TimeUnit.MILLISECONDS);
        try {
          return new Ended(
              BatchResults.price(
                  new InputStreamReader(in, StandardCharsets.UTF_8), credential, prices));
        } finally {
          deadline.cancel(false);
        }
      }
    } catch (HttpTimeoutException e) {
      return new Failed(
          "ProviderTimeout", "Anthropic did not answer in time for batch " + id, false);
    } catch (IOException e) {
      return new Failed(
          "ProviderUnreachable", "reading batch " + id + " from Anthropic failed: " + e, false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Failed("Interrupted", "interrupted", false);
    } catch (IllegalArgumentException e) {
      return new Failed("BadEndpoint", "endpoint " + base + " is not usable: " + e, true);
    }
  }

  /** The outcome of a non-2xx answer, or null for a 2xx. */
  private static Poll refused(int code, String id, String what) {
    if (code >= 200 && code < 300) {
      return null;
    }
    if (code == 404) {
      return new Gone("Anthropic answered 404 for the " + what + " of batch " + id);
    }
    if (code == 401 || code == 403) {
      return new Failed(
          "ProviderRefusedKey",
          "Anthropic answered "
              + code
              + " to the credential's key for batch "
              + id
              + ": check the Secret the ProviderCredential names",
          true);
    }
    return new Failed(
        "ProviderError",
        "Anthropic answered " + code + " for the " + what + " of batch " + id,
        false);
  }

  private HttpRequest request(String url, String apiKey, Duration timeout) {
    return HttpRequest.newBuilder(URI.create(url))
        .timeout(timeout)
        .header("x-api-key", apiKey)
        .header("anthropic-version", VERSION)
        .GET()
        .build();
  }

  private static HttpResponse.BodyHandler<InputStream> body() {
    return HttpResponse.BodyHandlers.ofInputStream();
  }

  private static JsonNode parse(byte[] bytes) {
    try {
      return JSON.readTree(bytes);
    } catch (IOException e) {
      return null;
    }
  }

  /** The credential's endpoint without a trailing {@code /} or {@code /v1}. */
  static String base(CredentialConfig c) {
    String base = c.effectiveEndpoint().orElse(null);
    if (base == null) {
      return null;
    }
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return base.endsWith("/v1") ? base.substring(0, base.length() - 3) : base;
  }
}
