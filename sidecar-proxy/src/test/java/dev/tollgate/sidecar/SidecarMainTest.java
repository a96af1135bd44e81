package dev.tollgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SidecarMainTest {

  @Test
  void eventLoopsDefaultToTwoNotTheNodesCores() {
    int cpus = Runtime.getRuntime().availableProcessors();
    assertThat(SidecarMain.eventLoops(Map.of())).isEqualTo(Math.min(2, cpus));
    assertThat(SidecarMain.eventLoops(Map.of("TOLLGATE_EVENT_LOOPS", " ")))
        .isEqualTo(Math.min(2, cpus));
  }

  @Test
  void eventLoopsAreConfigurable() {
    assertThat(SidecarMain.eventLoops(Map.of("TOLLGATE_EVENT_LOOPS", "1"))).isEqualTo(1);
    assertThat(SidecarMain.eventLoops(Map.of("TOLLGATE_EVENT_LOOPS", "8"))).isEqualTo(8);
  }

  @Test
  void eventLoopsOutOfRangeAreRefused() {
    for (String bad : new String[] {"0", "-1", "65", "two", "1.5"}) {
      assertThatThrownBy(() -> SidecarMain.eventLoops(Map.of("TOLLGATE_EVENT_LOOPS", bad)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("TOLLGATE_EVENT_LOOPS");
    }
  }

  @Test
  void readyIsTimedFromTheKernelsStartOfTheProcess() {
    // field 22 (starttime) is 4,000 ticks = 40.00 s after boot; a command name with spaces and a
    // parenthesis does not shift the fields
    String stat =
        "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 9000 0 0 0 120 30 0 0 20 0 24 0 4000 3000000"
            + " 25000 18446744073709551615 1 1 0 0 0 0 0 4096 17630 0 0 0 17 1 0 0 0 0 0";
    assertThat(SidecarMain.sinceProcessStart(stat, "41.23 80.00\n")).isEqualTo(1230);
    assertThatThrownBy(() -> SidecarMain.sinceProcessStart("garbage", "1.0 1.0"))
        .isInstanceOf(IllegalArgumentException.class);
    // on this machine: from /proc, not seconds off
    long own = SidecarMain.sinceProcessStart();
    long jvm = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
    assertThat(own).isBetween(jvm - 50, jvm + 1_000);
  }

  /** The image build's training run: every training call must be answered 200 (else it throws). */
  @Test
  void trainingRunCallsEveryCommonPathSuccessfully() throws Exception {
    Training.run(1);
  }
}
