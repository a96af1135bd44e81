package dev.tollgate.api.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionsTest {
  private static final Instant T0 = Instant.parse("2026-11-01T10:15:30.123456Z");
  private static final Instant T1 = Instant.parse("2026-11-01T11:00:00Z");

  @Test
  void setsAllFieldsInUtcWithSecondPrecision() {
    List<Condition> conditions =
        Conditions.set(List.of(), "Accepted", true, "Valid", "All references resolved.", 4L, T0);

    assertThat(conditions)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getType()).isEqualTo("Accepted");
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getReason()).isEqualTo("Valid");
              assertThat(c.getMessage()).isEqualTo("All references resolved.");
              assertThat(c.getObservedGeneration()).isEqualTo(4L);
              assertThat(c.getLastTransitionTime()).isEqualTo("2026-11-01T10:15:30Z");
            });
  }

  @Test
  void transitionTimeMovesOnlyWhenStatusFlips() {
    List<Condition> first =
        Conditions.set(List.of(), "Ready", false, "Pending", "Waiting for sidecars.", 1L, T0);

    List<Condition> sameStatus =
        Conditions.set(first, "Ready", false, "StillPending", "Still waiting.", 2L, T1);
    List<Condition> flipped =
        Conditions.set(first, "Ready", true, "Delivered", "All ready.", 2L, T1);

    assertThat(sameStatus.get(0).getLastTransitionTime()).isEqualTo("2026-11-01T10:15:30Z");
    assertThat(sameStatus.get(0).getReason()).isEqualTo("StillPending");
    assertThat(flipped.get(0).getLastTransitionTime()).isEqualTo("2026-11-01T11:00:00Z");
  }

  @Test
  void keepsOtherConditionsSortedByType() {
    List<Condition> conditions =
        Conditions.set(List.of(), "Ready", true, "Rendered", "Configuration rendered.", 1L, T0);
    conditions =
        Conditions.set(conditions, "Accepted", true, "Valid", "All references resolved.", 1L, T0);

    assertThat(conditions).extracting(Condition::getType).containsExactly("Accepted", "Ready");
    assertThat(Conditions.isTrue(conditions, "Ready")).isTrue();
    assertThat(Conditions.isTrue(conditions, "Degraded")).isFalse();
  }

  @Test
  void rejectsReasonsAndMessagesAPersonCannotUse() {
    assertThatThrownBy(() -> Conditions.set(List.of(), "Ready", true, "not camel", "x", 1L, T0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CamelCase");
    assertThatThrownBy(() -> Conditions.set(List.of(), "Ready", true, "Rendered", " ", 1L, T0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
