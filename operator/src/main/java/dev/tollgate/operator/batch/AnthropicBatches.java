package dev.tollgate.operator.batch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.batch.BatchResults;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;

/**
 * Anthropic Message Batches, read with the credential's key: {@code GET /v1/messages/batches/{id}}
 * for its {@code processing_status}, and once it is {@code ended} {@code GET
 * /v1/messages/batches/{id}/results} (JSONL), streamed line by line through {@link BatchResults}.
 * The results are always fetched from the credential's own endpoint, never from the {@code
 * results_url} the answer names, so the key goes nowhere else. Every request has a deadline ({@link
 * BatchDownloads}).
 */
public final class AnthropicBatches implements ProviderBatches {
  static final String VERSION = "2023-06-01";

  private final BatchDownloads downloads;

  public AnthropicBatches() {
    this(BatchDownloads.defaultClient());
  }

  AnthropicBatches(HttpClient http) {
    this.downloads = new BatchDownloads("Anthropic", http);
  }

  @Override
  public Poll poll(CredentialConfig credential, String apiKey, String id, PriceCatalogue prices) {
    String base = base(credential);
    if (base == null) {
      return new Failed("NoEndpoint", "credential " + credential.name() + " has no endpoint", true);
    }
    try {
      BatchDownloads.Answer status =
          downloads.status(
              request(base + "/v1/messages/batches/" + id, apiKey, BatchDownloads.STATUS_TIMEOUT));
      Poll refused = downloads.refused(status.code(), id, "status");
      if (refused != null) {
        return refused;
      }
      JsonNode batch = status.json();
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
      BatchDownloads.Downloaded<BatchResults.Summary> results =
          downloads.results(
              request(
                  base + "/v1/messages/batches/" + id + "/results",
                  apiKey,
                  BatchDownloads.STATUS_TIMEOUT),
              id,
              "results",
              in ->
                  BatchResults.price(
                      UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES, in, credential, prices));
      return results.refused() != null ? results.refused() : new Ended(results.value());
    } catch (IOException | IllegalArgumentException e) {
      return downloads.failure(e, id, base);
    } catch (InterruptedException e) {
      return BatchDownloads.interrupted();
    }
  }

  private HttpRequest request(String url, String apiKey, Duration timeout) {
    return HttpRequest.newBuilder(URI.create(url))
        .timeout(timeout)
        .header("x-api-key", apiKey)
        .header("anthropic-version", VERSION)
        .GET()
        .build();
  }

  /** The credential's endpoint without a trailing {@code /} or {@code /v1}. */
  static String base(CredentialConfig c) {
    String base = c.effectiveEndpoint().orElse(null);
    if (base == null) {
      return null;
    }
    base = BatchDownloads.trimSlash(base);
    return base.endsWith("/v1") ? base.substring(0, base.length() - 3) : base;
  }
}
