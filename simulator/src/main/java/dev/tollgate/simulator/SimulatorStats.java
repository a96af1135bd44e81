package dev.tollgate.simulator;

/**
 * What the simulator served since start or the last reset: the reference that metering tests
 * compare the proxy's ledger against.
 *
 * @param requests requests received
 * @param answered requests answered with 200 (fully or broken mid-stream)
 * @param inputTokens input tokens of answered requests (excluding cache tokens)
 * @param outputTokens output tokens actually sent
 */
public record SimulatorStats(
    long requests,
    long answered,
    long inputTokens,
    long outputTokens,
    long cacheReadTokens,
    long cacheWriteTokens) {}
