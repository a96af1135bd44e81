package dev.tollgate.operator.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
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
 * What the provider batch clients share: one HTTP client with a connect timeout, a bounded read of
 * a batch's status answer ({@link #STATUS_TIMEOUT}, {@link #MAX_STATUS_BYTES}), a results download
 * streamed to a reader and cut off after {@link #RESULTS_TIMEOUT} (the stream is closed, which ends
 * a read that hangs), and one mapping of HTTP codes and I/O failures to {@link
 * ProviderBatches.Poll} outcomes, so every provider's 401 or 404 means the same to the meter.
 */
final class BatchDownloads {
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration STATUS_TIMEOUT = Duration.ofSeconds(15);
  static final Duration RESULTS_TIMEOUT = Duration.ofMinutes(10);
  static final int MAX_STATUS_BYTES = 256 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Reads a results download; may throw {@link IOException}. */
  interface ResultsReader<T> {
    T read(Reader in) throws IOException;
  }

  /** A status answer: its code and its body, parsed (null when it is not JSON). */
  record Answer(int code, JsonNode json) {}

  private final String provider;
  private final HttpClient http;
  private final ScheduledExecutorService deadlines =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "tollgate-batch-deadlines");
            t.setDaemon(true);
            return t;
          });

  /**
   * @param provider the provider's name in messages ({@code Anthropic}, {@code OpenAI})
   */
  BatchDownloads(String provider, HttpClient http) {
    this.provider = provider;
    this.http = http;
  }

  static HttpClient defaultClient() {
    return HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
  }

  /** GETs a status answer, at most {@link #MAX_STATUS_BYTES} of it. */
  Answer status(HttpRequest request) throws IOException, InterruptedException {
    HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    byte[] bytes;
    try (InputStream in = r.body()) {
      bytes = in.readNBytes(MAX_STATUS_BYTES);
    }
    return new Answer(r.statusCode(), parse(bytes));
  }

  /**
   * GETs a results download and reads it with {@code reader} within {@link #RESULTS_TIMEOUT}; a
   * non-2xx answer is returned as its outcome ({@link #refused}) without reading.
   */
  <T> Downloaded<T> results(HttpRequest request, String id, String what, ResultsReader<T> reader)
      throws IOException, InterruptedException {
    HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = r.body()) {
      ProviderBatches.Poll refused = refused(r.statusCode(), id, what);
      if (refused != null) {
        return new Downloaded<>(null, refused);
      }
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
        return new Downloaded<>(
            reader.read(new InputStreamReader(in, StandardCharsets.UTF_8)), null);
      } finally {
        deadline.cancel(false);
      }
    }
  }

  /** What a download gave: its value, or the outcome of a non-2xx answer. */
  record Downloaded<T>(T value, ProviderBatches.Poll refused) {}

  /** The outcome of a non-2xx answer, or null for a 2xx. */
  ProviderBatches.Poll refused(int code, String id, String what) {
    if (code >= 200 && code < 300) {
      return null;
    }
    if (code == 404) {
      return new ProviderBatches.Gone(
          provider + " answered 404 for the " + what + " of batch " + id);
    }
    if (code == 401 || code == 403) {
      return new ProviderBatches.Failed(
          "ProviderRefusedKey",
          provider
              + " answered "
              + code
              + " to the credential's key for batch "
              + id
              + ": check the Secret the ProviderCredential names",
          true);
    }
    return new ProviderBatches.Failed(
        "ProviderError",
        provider + " answered " + code + " for the " + what + " of batch " + id,
        false);
  }

  /** The outcome of a request that threw. */
  ProviderBatches.Failed failure(Exception e, String id, String base) {
    if (e instanceof HttpTimeoutException) {
      return new ProviderBatches.Failed(
          "ProviderTimeout", provider + " did not answer in time for batch " + id, false);
    }
    if (e instanceof IllegalArgumentException) {
      return new ProviderBatches.Failed(
          "BadEndpoint", "endpoint " + base + " is not usable: " + e, true);
    }
    return new ProviderBatches.Failed(
        "ProviderUnreachable",
        "reading batch " + id + " from " + provider + " failed: " + e,
        false);
  }

  static ProviderBatches.Failed interrupted() {
    Thread.currentThread().interrupt();
    return new ProviderBatches.Failed("Interrupted", "interrupted", false);
  }

  private static JsonNode parse(byte[] bytes) {
    try {
      return JSON.readTree(bytes);
    } catch (IOException e) {
      return null;
    }
  }

  /** An endpoint without trailing {@code /}. */
  static String trimSlash(String base) {
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return base;
  }
}
