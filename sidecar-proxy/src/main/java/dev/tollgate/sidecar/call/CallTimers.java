package dev.tollgate.sidecar.call;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A call's deadlines on its event loop: the total timeout, which bounds the whole call, retries
 * included, and the first-token timeout of each streamed attempt.
 */
final class CallTimers {
  private final EventExecutor loop;
  private ScheduledFuture<?> total;
  private ScheduledFuture<?> firstToken;
  private boolean totalExpired;

  CallTimers(EventExecutor loop) {
    this.loop = loop;
  }

  /** Starts the total timeout; {@code onExpiry} gets the message the call fails with. */
  void startTotal(Duration d, Consumer<String> onExpiry) {
    total =
        schedule(
            d,
            () -> {
              totalExpired = true;
              onExpiry.accept("the call took longer than " + d.toMillis() + " ms");
            });
  }

  /** Starts the current attempt's first-token timeout. */
  void startFirstToken(Duration d, Consumer<String> onExpiry) {
    firstToken =
        schedule(
            d, () -> onExpiry.accept("no answer from the provider within " + d.toMillis() + " ms"));
  }

  /** The answer's first byte arrived. */
  void firstByte() {
    if (firstToken != null) {
      firstToken.cancel(false);
    }
  }

  /** The attempt failed; another may follow with a first-token timeout of its own. */
  void attemptEnded() {
    if (firstToken != null) {
      firstToken.cancel(false);
      firstToken = null;
    }
  }

  /** The call ended. */
  void cancel() {
    if (firstToken != null) {
      firstToken.cancel(false);
    }
    if (total != null) {
      total.cancel(false);
    }
  }

  /** Whether the total timeout expired: nothing is retried then. */
  boolean totalExpired() {
    return totalExpired;
  }

  ScheduledFuture<?> schedule(Duration d, Runnable r) {
    return loop.schedule(r, d.toMillis(), TimeUnit.MILLISECONDS);
  }
}
