package dev.tollgate.sidecar.call;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Holds a call's first step outward (classifier, provider) until its event loop has polled the
 * caller's connection once more after reading the request. A caller that sends its request and at
 * once closes or shuts down its side is usually seen only then (the request and the end of input
 * are read in separate turns of the loop), and by then its call has ended: the provider is never
 * asked, and nothing is billed, for a caller that is already gone. A caller that leaves later is
 * handled as an abandoned call (a stream is read on for its usage).
 */
final class DispatchBarrier {
  private DispatchBarrier() {}

  /** Runs {@code step} on {@code loop} after the loop's next poll of its sockets. */
  static void afterNextPoll(EventExecutor loop, Runnable step) {
    // A task queued now runs in this turn's task pass. A task scheduled from that pass is taken
    // from the scheduled queue only in the next pass, which follows the next poll: by then an end
    // of input that was waiting on the socket has closed the channel and ended the call.
    loop.execute(() -> loop.schedule(step, 0, TimeUnit.NANOSECONDS));
  }
}
