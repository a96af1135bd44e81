package dev.tollgate.sidecar.wire;

import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;

/**
 * Collects the usage a stream reports in pieces. Each field keeps its latest reported value:
 * providers report running totals (Anthropic's {@code message_delta}, Gemini's usageMetadata), not
 * increments.
 */
public final class UsageAccumulator {
  private long input = -1;
  private long output = -1;
  private long cacheRead = -1;
  private long cacheWrite = -1;

  public void add(StreamEvent.UsageUpdate u) {
    if (u.input() >= 0) {
      input = u.input();
    }
    if (u.output() >= 0) {
      output = u.output();
    }
    if (u.cacheRead() >= 0) {
      cacheRead = u.cacheRead();
    }
    if (u.cacheWrite() >= 0) {
      cacheWrite = u.cacheWrite();
    }
  }

  /** Whether any usage was reported at all. */
  public boolean known() {
    return input >= 0 || output >= 0;
  }

  public Usage usage() {
    return new Usage(
        Math.max(0, input), Math.max(0, output), Math.max(0, cacheRead), Math.max(0, cacheWrite));
  }
}
