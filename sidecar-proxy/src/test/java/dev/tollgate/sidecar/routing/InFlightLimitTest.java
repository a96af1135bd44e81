package dev.tollgate.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InFlightLimitTest {
  private final List<String> admitted = new ArrayList<>();

  private InFlightLimit.Ticket ticket(InFlightLimit l, String name) {
    return l.ticket(Runnable::run, () -> admitted.add(name));
  }

  @Test
  void slotsThenABoundedQueueThenRefusalAndAFreedSlotGoesToTheOldestWaiter() {
    InFlightLimit l = new InFlightLimit(1, 2);
    InFlightLimit.Ticket a = ticket(l, "a");
    InFlightLimit.Ticket b = ticket(l, "b");
    InFlightLimit.Ticket c = ticket(l, "c");
    assertThat(l.enter(a)).isEqualTo(InFlightLimit.Entry.ADMITTED);
    assertThat(l.enter(b)).isEqualTo(InFlightLimit.Entry.QUEUED);
    assertThat(l.enter(c)).isEqualTo(InFlightLimit.Entry.QUEUED);
    assertThat(l.enter(ticket(l, "d"))).isEqualTo(InFlightLimit.Entry.REFUSED);

    a.release();
    a.release(); // idempotent: frees one slot only
    assertThat(admitted).containsExactly("b");
    assertThat(l.inFlight()).isEqualTo(1);
    assertThat(c.abandonWait()).isTrue(); // c's wait ran out
    assertThat(b.abandonWait()).isFalse(); // b holds its slot
    b.release();
    assertThat(admitted).containsExactly("b");
    assertThat(l.inFlight()).isZero();
    assertThat(l.queued()).isZero();
  }

  @Test
  void aCallerGoneWhileQueuedLeavesTheQueueAndARaisedCapAdmitsWaiters() {
    InFlightLimit l = new InFlightLimit(1, 5);
    InFlightLimit.Ticket a = ticket(l, "a");
    l.enter(a);
    InFlightLimit.Ticket gone = ticket(l, "gone");
    l.enter(gone);
    l.enter(ticket(l, "b"));
    l.enter(ticket(l, "c"));
    gone.release();
    assertThat(l.queued()).isEqualTo(2);
    l.resize(3, 5);
    assertThat(admitted).containsExactly("b", "c");
    assertThat(l.inFlight()).isEqualTo(3);
  }
}
