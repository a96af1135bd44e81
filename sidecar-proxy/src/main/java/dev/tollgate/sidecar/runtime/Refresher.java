package dev.tollgate.sidecar.runtime;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A daemon thread that renews credentials off the event loop: one-off tasks ({@link #execute}) and
 * a periodic check every {@code every}. The thread starts with the first task, so a sidecar whose
 * configuration has nothing to renew (API keys only, the common case) runs no such thread and takes
 * no periodic wake-ups (issue #24: threads at start).
 */
public final class Refresher implements AutoCloseable {
  private final String threadName;
  private final Duration every;
  private final Runnable periodic;
  private ScheduledExecutorService executor;
  private boolean closed;

  public Refresher(String threadName, Duration every, Runnable periodic) {
    this.threadName = threadName;
    this.every = every;
    this.periodic = periodic;
  }

  /** Runs {@code task} on the thread, starting it (and the periodic check) if need be. */
  public synchronized void execute(Runnable task) {
    if (closed) {
      return;
    }
    if (executor == null) {
      executor =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, threadName);
                t.setDaemon(true);
                return t;
              });
      executor.scheduleWithFixedDelay(
          periodic, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }
    executor.execute(task);
  }

  /** Whether the thread was started. */
  public synchronized boolean started() {
    return executor != null;
  }

  /** Stops the thread; later tasks are dropped. */
  @Override
  public synchronized void close() {
    closed = true;
    if (executor != null) {
      executor.shutdownNow();
    }
  }
}
