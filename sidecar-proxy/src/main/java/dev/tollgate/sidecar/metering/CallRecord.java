package dev.tollgate.sidecar.metering;

import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.wire.ErrorKind;

/**
 * Everything known about one call once it ended: the single source of its log line, its metrics and
 * its ledger entry.
 *
 * @param route route name, or {@code _unknown} when the request named no route (never user text)
 * @param usage tokens as the provider reported them, or null when it reported none
 * @param usageComplete false when the provider's usage was missing or the stream broke: the numbers
 *     are what was known, not the final count
 * @param ttftNanos time to the first byte of the provider's answer, or -1
 * @param errorKind null on success
 * @param upstreamStatus HTTP status the provider answered with, or 0 when it never answered
 * @param prompt the last user message, only when content logging is enabled, else null
 * @param answer the answer text, only when content logging is enabled, else null
 */
public record CallRecord(
    String requestId,
    String api,
    String route,
    String tier,
    String provider,
    String credential,
    String model,
    boolean stream,
    int status,
    ErrorKind errorKind,
    Usage usage,
    boolean usageComplete,
    Cost cost,
    long latencyNanos,
    long ttftNanos,
    String finishReason,
    int failovers,
    int upstreamStatus,
    String prompt,
    String answer) {

  public static final String UNKNOWN = "_unknown";
}
