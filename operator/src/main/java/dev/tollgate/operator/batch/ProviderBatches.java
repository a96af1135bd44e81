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
  sealed interface Poll permits Running, Ended, Gone, Failed {}

  /** Still being processed (or canceling): poll again later. */
  record Running(String status) implements Poll {}

  /** Ended (all items succeeded, errored, canceled or expired): its results, priced. */
  record Ended(BatchResults.Summary results) implements Poll {}

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
