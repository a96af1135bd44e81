package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClassifierLabelTest {
  private static final List<String> LABELS = List.of("simple", "complex", "complex-legal");

  @Test
  void theAnswerMustStartWithADeclaredLabelAsAWholeWord() {
    assertThat(ClassifierCall.label("simple", LABELS)).isEqualTo("simple");
    assertThat(ClassifierCall.label("  Complex.", LABELS)).isEqualTo("complex");
    assertThat(ClassifierCall.label("complex-legal: a contract", LABELS))
        .isEqualTo("complex-legal");
    assertThat(ClassifierCall.label("simpler", LABELS)).isNull();
    assertThat(ClassifierCall.label("I think it is simple", LABELS)).isNull();
    assertThat(ClassifierCall.label("", LABELS)).isNull();
  }
}
