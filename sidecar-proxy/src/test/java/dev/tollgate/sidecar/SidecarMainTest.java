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

  /** The image build's training run: every training call must be answered 200 (else it throws). */
  @Test
  void trainingRunCallsEveryCommonPathSuccessfully() throws Exception {
    Training.run(1);
  }
}
