package dev.tollgate.sidecar.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * serveStaleOnError keeps answers past their ttl: a normal lookup no longer replays them, a stale
 * lookup does until their maximum age; what Redis stores says when it was cached.
 */
class StaleRetentionTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private static CachedAnswer answer() {
    return new CachedAnswer(
        new ChatResponse(
            "r1",
            "gpt-4o-mini",
            List.of(new ChatRequest.Text("Use the reset link.")),
            FinishReason.STOP,
            new Usage(12, 5, 0, 0)),
        "main",
        "openai",
        "openai",
        "gpt-4o-mini",
        new BigDecimal("0.000123"));
  }

  @Test
  void anAnswerPastItsTtlIsServedOnlyStaleAndOnlyUntilItsMaxAge() {
    LocalAnswerCache c =
        new LocalAnswerCache(
            Duration.ofMinutes(1), Duration.ofHours(1), 100, 1 << 20, now::get, Runnable::run);
    c.put("k", answer(), 100);
    assertThat(c.get("k")).isNotNull();

    now.addAndGet(Duration.ofMinutes(1).plusSeconds(1).toNanos());
    assertThat(c.get("k")).as("past the ttl: not a hit").isNull();
    assertThat(c.getStale("k")).as("kept for serving stale").isNotNull();

    now.addAndGet(Duration.ofMinutes(59).toNanos());
    assertThat(c.getStale("k")).as("past the maximum age").isNull();
    assertThat(c.entries()).isZero();
  }

  @Test
  void withoutStaleServingAnAnswerIsKeptForItsTtlOnly() {
    LocalAnswerCache c =
        new LocalAnswerCache(Duration.ofMinutes(1), 100, 1 << 20, now::get, Runnable::run);
    c.put("k", answer(), 100);
    now.addAndGet(Duration.ofMinutes(1).plusSeconds(1).toNanos());
    assertThat(c.getStale("k")).isNull();
    assertThat(c.entries()).isZero();
  }

  @Test
  void aCopyFromRedisKeepsTheOriginalsAge() {
    LocalAnswerCache c =
        new LocalAnswerCache(
            Duration.ofMinutes(1), Duration.ofHours(1), 100, 1 << 20, now::get, Runnable::run);
    c.put("k", answer(), 100, Duration.ofSeconds(50).toNanos());
    assertThat(c.get("k")).isNotNull();
    now.addAndGet(Duration.ofSeconds(11).toNanos());
    assertThat(c.get("k")).isNull();
    assertThat(c.getStale("k")).isNotNull();
  }

  @Test
  void storedBytesCarryWhenTheAnswerWasCached() {
    byte[] bytes = answer().toBytes(1_764_000_000_123L);
    CachedAnswer.Stored s = CachedAnswer.readStored(bytes);
    assertThat(s.storedAtMillis()).isEqualTo(1_764_000_000_123L);
    assertThat(s.answer()).isEqualTo(answer());
    assertThat(CachedAnswer.readStored(answer().toBytes()).storedAtMillis()).isEqualTo(-1);

    // a forged time is "not said", never a reason to refuse or to keep longer
    String forged = new String(bytes, StandardCharsets.UTF_8).replace("1764000000123", "\"soon\"");
    assertThat(CachedAnswer.readStored(forged.getBytes(StandardCharsets.UTF_8)).storedAtMillis())
        .isEqualTo(-1);
  }
}
