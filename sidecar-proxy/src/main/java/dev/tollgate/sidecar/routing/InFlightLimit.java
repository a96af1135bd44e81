package dev.tollgate.sidecar.routing;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.Executor;

/**
 * A route's cap on the calls this sidecar serves at once ({@code rateLimit.maxInFlight}), with a
 * bounded FIFO queue of calls waiting for a slot ({@code maxQueue}). A slot freed by an ending call
 * passes straight to the oldest waiter (on the waiter's own event loop), so a queued call never
 * competes with a newcomer. Calls run on several event loops, so the state is guarded by this
 * object's lock; nothing is run under it.
 */
public final class InFlightLimit {
  private int maxInFlight;
  private int maxQueue;
  private int inFlight;
  private final ArrayDeque<Ticket> waiting = new ArrayDeque<>();

  InFlightLimit(int maxInFlight, int maxQueue) {
    this.maxInFlight = maxInFlight;
    this.maxQueue = maxQueue;
  }

  /** What became of an attempt to enter. */
  public enum Entry {
    /** A slot is held: go on. */
    ADMITTED,
    /** Waiting in the queue: {@code onAdmitted} runs when a slot passes to it. */
    QUEUED,
    /** The cap and the queue are full: nothing is held. */
    REFUSED
  }

  /** One call's place: a slot held, a place in the queue, or nothing. */
  public final class Ticket {
    private final Executor executor;
    private final Runnable onAdmitted;
    private boolean holding;
    private boolean queued;

    private Ticket(Executor executor, Runnable onAdmitted) {
      this.executor = executor;
      this.onAdmitted = onAdmitted;
    }

    /**
     * Leaves the queue when still waiting (its wait is over): true if it was waiting, false when a
     * slot has passed to it meanwhile (its {@code onAdmitted} is on its way) or it holds nothing.
     */
    public boolean abandonWait() {
      synchronized (InFlightLimit.this) {
        if (!queued) {
          return false;
        }
        queued = false;
        waiting.remove(this);
        return true;
      }
    }

    /**
     * Frees the slot held (passing it to the oldest waiter) or the place in the queue; idempotent.
     */
    public void release() {
      Ticket next = null;
      synchronized (InFlightLimit.this) {
        if (queued) {
          queued = false;
          waiting.remove(this);
          return;
        }
        if (!holding) {
          return;
        }
        holding = false;
        inFlight--;
        next = handOff();
      }
      if (next != null) {
        next.executor.execute(next.onAdmitted);
      }
    }
  }

  /**
   * Tries to take a slot for a call whose continuation, should it have to wait, is {@code
   * onAdmitted}, run on {@code executor}.
   */
  public synchronized Entry enter(Ticket t) {
    if (inFlight < maxInFlight && waiting.isEmpty()) {
      inFlight++;
      t.holding = true;
      return Entry.ADMITTED;
    }
    if (waiting.size() < maxQueue) {
      waiting.addLast(t);
      t.queued = true;
      return Entry.QUEUED;
    }
    return Entry.REFUSED;
  }

  /** A ticket for a call that continues with {@code onAdmitted} on {@code executor}. */
  public Ticket ticket(Executor executor, Runnable onAdmitted) {
    return new Ticket(executor, onAdmitted);
  }

  /** Calls holding a slot now. */
  public synchronized int inFlight() {
    return inFlight;
  }

  /** Calls waiting for a slot now. */
  public synchronized int queued() {
    return waiting.size();
  }

  synchronized boolean sameAs(int maxInFlight, int maxQueue) {
    return this.maxInFlight == maxInFlight && this.maxQueue == maxQueue;
  }

  /**
   * New caps from a configuration reload, keeping the calls in flight and waiting: a higher cap
   * admits waiters at once; a lower one lets the calls in flight finish; waiters beyond a smaller
   * queue keep their place until served or timed out.
   */
  void resize(int maxInFlight, int maxQueue) {
    ArrayDeque<Ticket> admitted = new ArrayDeque<>();
    synchronized (this) {
      this.maxInFlight = maxInFlight;
      this.maxQueue = maxQueue;
      for (Ticket next = handOff(); next != null; next = handOff()) {
        admitted.add(next);
      }
    }
    for (Ticket t : admitted) {
      t.executor.execute(t.onAdmitted);
    }
  }

  /** Under the lock: gives a free slot to the oldest waiter, or null. */
  private Ticket handOff() {
    if (inFlight >= maxInFlight) {
      return null;
    }
    Iterator<Ticket> it = waiting.iterator();
    if (!it.hasNext()) {
      return null;
    }
    Ticket next = it.next();
    it.remove();
    next.queued = false;
    next.holding = true;
    inFlight++;
    return next;
  }
}
