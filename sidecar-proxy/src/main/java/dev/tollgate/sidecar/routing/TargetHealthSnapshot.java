package dev.tollgate.sidecar.routing;

import java.time.Instant;

/**
 * One target's health at a moment, for reports to the operator and for status.
 *
 * @param calls calls in the sliding window
 * @param errorRatePercent failures among those calls, 0 when there are too few to judge
 * @param ttftP50Millis median time to first byte over recent successes, -1 when none
 * @param ttftP95Millis 95th percentile of the same, -1 when none
 * @param lastError kind of the last failure (no secrets, no prompt text), or null
 */
public record TargetHealthSnapshot(
    String route,
    String tier,
    String credential,
    String provider,
    String model,
    CircuitState state,
    int calls,
    float errorRatePercent,
    long ttftP50Millis,
    long ttftP95Millis,
    String lastError,
    Instant lastErrorAt) {}
