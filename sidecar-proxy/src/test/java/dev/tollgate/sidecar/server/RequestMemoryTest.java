package dev.tollgate.sidecar.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestMemoryTest {
  private static final long MIB = 1024 * 1024;

  @Test
  void theContainerHeapAllowsThreeMebibyteBodies() {
    assertThat(RequestMemory.forHeap(96 * MIB).maxBodyBytes()).isEqualTo(3 * MIB);
  }

  @Test
  void bodiesBeyondTheBudgetAreRefusedUntilOneEnds() {
    RequestMemory m = RequestMemory.forHeap(96 * MIB);
    RequestMemory.Lease first = m.reserve(2 * MIB);
    assertThat(first).isNotNull();
    assertThat(m.reserve(2 * MIB)).isNull();
    assertThat(m.reserve(MIB / 2)).isNotNull();

    first.release();
    first.release(); // a second release gives nothing back twice
    assertThat(m.used()).isEqualTo(MIB / 2 * RequestMemory.EXPANSION);
    assertThat(m.reserve(2 * MIB)).isNotNull();
  }

  @Test
  void aBodyAloneIsAlwaysAdmittedUnderTheBodyLimit() {
    RequestMemory m = RequestMemory.forHeap(96 * MIB);
    assertThat(m.reserve(m.maxBodyBytes())).isNotNull();
  }
}
