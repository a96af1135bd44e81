package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void parsesCompoundDurations() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.parse("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(Durations.parse("1s250ms")).isEqualTo(Duration.ofMillis(1250));
  }

  @Test
  void formatsCanonically() {
    assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
    assertThat(Durations.format(Duration.ofMillis(1250))).isEqualTo("1s250ms");
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    assertThat(Durations.format(Durations.parse("90m"))).isEqualTo("1h30m");
  }

  @Test
  void rejectsOtherText() {
    assertThatThrownBy(() -> Durations.parse("30")).hasMessageContaining("'30' is not a duration");
    assertThatThrownBy(() -> Durations.parse("1d")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Durations.parse("PT30S")).isInstanceOf(IllegalArgumentException.class);
  }
}
