package dev.tollgate.sidecar.server;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap that request bodies of calls in flight may take, shared by every connection. A body is
 * charged {@link #EXPANSION} times its bytes while its call runs, because a parsed JSON body weighs
 * that much in the worst case (measured: 60,000 messages of a few bytes, 2 MB on the wire, take
 * about 13 times their size as a Jackson tree), and the call keeps it until it ends (retries need
 * it). A call that would exceed the budget is refused with 503 before its body is parsed, so that
 * many large bodies at once cannot take the heap the sidecar needs to stay up.
 */
public final class RequestMemory {
  /** Heap bytes charged per body byte. */
  static final int EXPANSION = 16;

  /** The share of the heap that bodies in flight may take. */
  private static final double HEAP_SHARE = 0.5;

  private final long budget;
  private final AtomicLong used = new AtomicLong();

  RequestMemory(long budgetBytes) {
    this.budget = budgetBytes;
  }

  /** The budget for a JVM whose maximum heap is {@code maxHeapBytes}. */
  static RequestMemory forHeap(long maxHeapBytes) {
    return new RequestMemory((long) (maxHeapBytes * HEAP_SHARE));
  }

  /**
   * The largest body one call may send: the whole budget charged for it. With the container's 96
   * MiB heap, 3 MiB.
   */
  long maxBodyBytes() {
    return budget / EXPANSION;
  }

  /**
   * Heap bytes charged per byte of a held upload (an OpenAI batch input file): the body, Netty's
   * decoder's copy of the body and of its file, the file with its lines resolved, the body encoded
   * again and its copy on the way out. Its lines are parsed one at a time, each no larger than a
   * request body.
   */
  static final int HELD_UPLOAD_EXPANSION = 6;

  /** The largest upload held whole: the whole budget charged for it. */
  long maxHeldUploadBytes() {
    return budget / HELD_UPLOAD_EXPANSION;
  }

  /** Charges a body of {@code bodyBytes}; null when the budget cannot take it now. */
  Lease reserve(long bodyBytes) {
    return reserve(bodyBytes, EXPANSION);
  }

  /** Charges a body of {@code bodyBytes}, {@code expansion} heap bytes per byte. */
  Lease reserve(long bodyBytes, int expansion) {
    long cost = Math.max(0, bodyBytes) * expansion;
    while (true) {
      long now = used.get();
      // a body is always admitted when nothing else is in flight: maxBodyBytes bounds it alone
      if (now > 0 && now + cost > budget) {
        return null;
      }
      if (used.compareAndSet(now, now + cost)) {
        return new Lease(cost);
      }
    }
  }

  /** Heap bytes charged now. */
  long used() {
    return used.get();
  }

  /** One call's charge, given back once when the call ends. */
  final class Lease {
    private long cost;

    private Lease(long cost) {
      this.cost = cost;
    }

    void release() {
      used.addAndGet(-cost);
      cost = 0;
    }
  }
}
