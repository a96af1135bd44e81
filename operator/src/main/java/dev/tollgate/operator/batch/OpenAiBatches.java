package dev.tollgate.operator.batch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.config.batch.BatchResults;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * OpenAI Batch API, read with the credential's key: {@code GET /v1/batches/{id}} for its {@code
 * status}; once it has ended ({@code completed}, {@code expired}, {@code cancelled}, {@code
 * failed}) its output file ({@code GET /v1/files/{output_file_id}/content}, JSONL) is streamed line
 * by line through {@link BatchResults}, and its error file only counted. An expired or cancelled
 * batch still has an output file for the requests that completed, and OpenAI bills those; a {@code
 * failed} batch (its input did not validate) has none and costs nothing. An output file deleted
 * before it was read ({@link ResultsGone}) is charged from the estimate. Files are always read from
 * the credential's own endpoint.
 *
 * <p>Credentials: {@code openai} (endpoint with its {@code /v1}, {@code Authorization: Bearer}) and
 * {@code azure-openai} ({@code {endpoint}/openai/batches/{id}?api-version=...} and {@code
 * /openai/files/{id}/content}, header {@code api-key}; the batch API needs api-version
 * 2024-07-01-preview or later, the default 2024-10-21 has it). Other providers are refused ({@code
 * BatchApiUnsupported}): their batch APIs are not OpenAI's, or not verified to be.
 */
public final class OpenAiBatches implements ProviderBatches {
  /** The statuses after which nothing changes. */
  static final Set<String> ENDED = Set.of("completed", "expired", "cancelled", "failed");

  /** The statuses of a batch still at work. */
  static final Set<String> RUNNING =
      Set.of("validating", "in_progress", "finalizing", "cancelling");

  /** The oldest Azure OpenAI api-version with the batch API. */
  static final String AZURE_FIRST_BATCH_VERSION = "2024-07-01";

  /** File ids the provider names, checked before they go into a URL. */
  private static final Pattern FILE_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  private final BatchDownloads downloads;

  public OpenAiBatches() {
    this(BatchDownloads.defaultClient());
  }

  OpenAiBatches(HttpClient http) {
    this.downloads = new BatchDownloads("OpenAI", http);
  }

  @Override
  public Poll poll(CredentialConfig credential, String apiKey, String id, PriceCatalogue prices) {
    Failed unsupported = unsupported(credential);
    if (unsupported != null) {
      return unsupported;
    }
    String base = credential.effectiveEndpoint().map(BatchDownloads::trimSlash).orElse(null);
    if (base == null) {
      return new Failed("NoEndpoint", "credential " + credential.name() + " has no endpoint", true);
    }
    try {
      BatchDownloads.Answer status =
          downloads.status(request(credential, url(credential, base, "/batches/" + id), apiKey));
      Poll refused = downloads.refused(status.code(), id, "status");
      if (refused != null) {
        return refused;
      }
      JsonNode batch = status.json();
      String state = batch == null ? "" : batch.path("status").asText("");
      if (RUNNING.contains(state)) {
        return new Running(state);
      }
      if (!ENDED.contains(state)) {
        return new Failed(
            "UnreadableBatch",
            "OpenAI's answer for batch " + id + " has no known status (" + clip(state) + ")",
            false);
      }
      String output = fileId(batch, "output_file_id");
      String errors = fileId(batch, "error_file_id");
      if (output == null || errors == null) {
        return new Failed(
            "UnreadableBatch",
            "OpenAI's answer for batch " + id + " names a file id that is not one",
            false);
      }
      BatchResults.Summary summary = BatchResults.Summary.NONE;
      if (!output.isEmpty()) {
        BatchDownloads.Downloaded<BatchResults.Summary> priced =
            downloads.results(
                request(credential, url(credential, base, "/files/" + output + "/content"), apiKey),
                id,
                "output file " + output,
                in ->
                    BatchResults.price(
                        UsageReport.AdmittedBatch.OPENAI_BATCH, in, credential, prices));
        if (priced.refused() instanceof Gone gone) {
          // the batch ended but its output is gone (the app deleted the file): its usage cannot
          // be read, and releasing the hold would let a deletion erase the spend
          JsonNode counts = batch.path("request_counts");
          return new ResultsGone(
              counts.path("completed").canConvertToLong()
                  ? counts.path("completed").asLong(-1)
                  : -1,
              counts.path("total").canConvertToLong() ? counts.path("total").asLong(0) : 0,
              gone.message() + " (deleted before the operator read it)");
        }
        if (priced.refused() != null) {
          return priced.refused();
        }
        summary = priced.value();
      }
      if (!errors.isEmpty()) {
        summary = plusErrorFile(credential, base, apiKey, id, errors, summary, batch);
      }
      return new Ended(summary);
    } catch (IOException | IllegalArgumentException e) {
      return downloads.failure(e, id, base);
    } catch (InterruptedException e) {
      return BatchDownloads.interrupted();
    }
  }

  /**
   * Adds the error file's lines as failed items; when it cannot be read, the batch's {@code
   * request_counts.failed} instead (the count is information only: nothing in it is billed).
   */
  private BatchResults.Summary plusErrorFile(
      CredentialConfig credential,
      String base,
      String apiKey,
      String id,
      String errors,
      BatchResults.Summary summary,
      JsonNode batch)
      throws IOException, InterruptedException {
    BatchDownloads.Downloaded<BatchResults.Summary> counted =
        downloads.results(
            request(credential, url(credential, base, "/files/" + errors + "/content"), apiKey),
            id,
            "error file " + errors,
            BatchResults::countFailed);
    if (counted.value() != null) {
      return summary.plusFailed(counted.value().failed(), counted.value().unreadable());
    }
    JsonNode failed = batch.path("request_counts").path("failed");
    int n = failed.canConvertToInt() && failed.asInt() > 0 ? failed.asInt() : 0;
    return summary.plusFailed(n, 0);
  }

  /** Why the operator cannot read this credential's batches, or null when it can. */
  static Failed unsupported(CredentialConfig c) {
    if (c.provider() == ProviderKind.OPENAI) {
      return null;
    }
    if (c.provider() == ProviderKind.AZURE_OPENAI) {
      String version = c.azure() == null ? null : c.azure().apiVersion();
      if (version == null || version.compareTo(AZURE_FIRST_BATCH_VERSION) < 0) {
        return new Failed(
            "BatchApiVersion",
            "Azure OpenAI credential "
                + c.name()
                + " uses api-version "
                + version
                + ", which has no batch API; set spec.azure.apiVersion to 2024-10-21 or later",
            true);
      }
      return null;
    }
    return new Failed(
        "BatchApiUnsupported",
        "credential "
            + c.name()
            + " is a "
            + c.provider().wireName()
            + " credential: the operator meters OpenAI batches on openai and azure-openai"
            + " credentials only",
        true);
  }

  /** {@code {endpoint}{path}}, or Azure's {@code {endpoint}/openai{path}?api-version=}. */
  static String url(CredentialConfig c, String base, String path) {
    if (c.provider() == ProviderKind.AZURE_OPENAI) {
      return base
          + "/openai"
          + path
          + "?api-version="
          + URLEncoder.encode(c.azure().apiVersion(), StandardCharsets.UTF_8);
    }
    return base + path;
  }

  private static HttpRequest request(CredentialConfig c, String url, String apiKey) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).timeout(BatchDownloads.STATUS_TIMEOUT).GET();
    if (c.provider() == ProviderKind.AZURE_OPENAI) {
      b.header("api-key", apiKey);
    } else {
      b.header("Authorization", "Bearer " + apiKey);
    }
    return b.build();
  }

  /** The file id in {@code field}: "" when absent or null, null when it is not an id. */
  private static String fileId(JsonNode batch, String field) {
    JsonNode v = batch.get(field);
    if (v == null || v.isNull()) {
      return "";
    }
    return v.isTextual() && FILE_ID.matcher(v.asText()).matches() ? v.asText() : null;
  }

  private static String clip(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
