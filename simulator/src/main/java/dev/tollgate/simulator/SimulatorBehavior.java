package dev.tollgate.simulator;

import java.time.Duration;

/**
 * How the simulator answers: timing, usage numbers, and faults. Immutable; change it with the
 * {@code with*} methods and {@link ProviderSimulator#behavior(SimulatorBehavior)}.
 *
 * @param timeToFirstToken delay before the first byte of the answer
 * @param tokensPerSecond pace of streamed tokens after the first; 0 sends them all at once
 * @param outputTokens tokens in each answer (one word each)
 * @param inputTokens reported input tokens; null estimates them as request bytes / 4
 * @param cacheReadTokens reported cache-read input tokens
 * @param cacheWriteTokens reported cache-write input tokens (Anthropic only)
 * @param fault the misbehaviour applied to a share of requests
 * @param faultRate share of requests, 0 to 1, that get the fault
 * @param retryAfterSeconds value of {@code Retry-After} on 429
 * @param omitUsage leave usage out of answers (a misbehaving provider)
 * @param toolCallName when set and the request declares tools, answer with a call to this tool
 * @param toolCallArguments JSON arguments of that call
 */
public record SimulatorBehavior(
    Duration timeToFirstToken,
    int tokensPerSecond,
    int outputTokens,
    Integer inputTokens,
    int cacheReadTokens,
    int cacheWriteTokens,
    Fault fault,
    double faultRate,
    int retryAfterSeconds,
    boolean omitUsage,
    String toolCallName,
    String toolCallArguments) {

  /** Instant answers of 8 tokens, usage included, no faults. */
  public static SimulatorBehavior defaults() {
    return new SimulatorBehavior(
        Duration.ZERO, 0, 8, null, 0, 0, Fault.NONE, 0, 1, false, null, null);
  }

  public SimulatorBehavior withTiming(Duration ttft, int tokensPerSecond) {
    return new SimulatorBehavior(
        ttft,
        tokensPerSecond,
        outputTokens,
        inputTokens,
        cacheReadTokens,
        cacheWriteTokens,
        fault,
        faultRate,
        retryAfterSeconds,
        omitUsage,
        toolCallName,
        toolCallArguments);
  }

  public SimulatorBehavior withUsage(Integer input, int output, int cacheRead, int cacheWrite) {
    return new SimulatorBehavior(
        timeToFirstToken,
        tokensPerSecond,
        output,
        input,
        cacheRead,
        cacheWrite,
        fault,
        faultRate,
        retryAfterSeconds,
        omitUsage,
        toolCallName,
        toolCallArguments);
  }

  /** Every request gets {@code f}. */
  public SimulatorBehavior withFault(Fault f) {
    return withFault(f, 1.0);
  }

  public SimulatorBehavior withFault(Fault f, double rate) {
    return new SimulatorBehavior(
        timeToFirstToken,
        tokensPerSecond,
        outputTokens,
        inputTokens,
        cacheReadTokens,
        cacheWriteTokens,
        f,
        rate,
        retryAfterSeconds,
        omitUsage,
        toolCallName,
        toolCallArguments);
  }

  public SimulatorBehavior withRetryAfter(int seconds) {
    return new SimulatorBehavior(
        timeToFirstToken,
        tokensPerSecond,
        outputTokens,
        inputTokens,
        cacheReadTokens,
        cacheWriteTokens,
        fault,
        faultRate,
        seconds,
        omitUsage,
        toolCallName,
        toolCallArguments);
  }

  public SimulatorBehavior withoutUsage() {
    return new SimulatorBehavior(
        timeToFirstToken,
        tokensPerSecond,
        outputTokens,
        inputTokens,
        cacheReadTokens,
        cacheWriteTokens,
        fault,
        faultRate,
        retryAfterSeconds,
        true,
        toolCallName,
        toolCallArguments);
  }

  public SimulatorBehavior withToolCall(String name, String argumentsJson) {
    return new SimulatorBehavior(
        timeToFirstToken,
        tokensPerSecond,
        outputTokens,
        inputTokens,
        cacheReadTokens,
        cacheWriteTokens,
        fault,
        faultRate,
        retryAfterSeconds,
        omitUsage,
        name,
        argumentsJson);
  }
}
