package dev.tollgate.operator.batch;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.batch.BatchResults;

/**
 * A provider's batch API as the batch meter uses it: where a batch stands and, once it has ended,
 * its results priced. Behind an interface so tests can swap in a fake; {@link AnthropicBatches} is
 * the real one.
 */
public interface ProviderBatches {
  /** Where one batch stands. */
  sealed interface Poll permits Running, Ended, ResultsGone, Gone, Failed {}

  /** Still being processed (or canceling): poll again later. */
  record Running(String status) implements Poll {}

  /** Ended (all items succeeded, errored, canceled or expired): its results, priced. */
  record Ended(BatchResults.Summary results) implements Poll {}

  /**
   * Ended, but its results can no longer be read (an OpenAI output file the app deleted before the
   * operator read it): charged from the batch's estimate for the share of requests that completed.
   *
   * @param completed requests that completed, as the provider counts them (-1: unknown, charge all)
   * @param total requests in the batch (0 or less: unknown)
   */
  record ResultsGone(long completed, long total, String message) implements Poll {}

  /** The provider does not know the batch (404): deleted, or never existed. */
  record Gone(String message) implements Poll {}

  /**
   * The provider could not be asked or refused (401, 403, 5xx, timeout, unreadable answer).
   *
   * @param reason a CamelCase word for Events
   * @param permanent true when retrying without a change (a new key) will not help
   */
  record Failed(String reason, String message, boolean permanent) implements Poll {}

  Poll poll(CredentialConfig credential, String apiKey, String id, PriceCatalogue prices);
}
