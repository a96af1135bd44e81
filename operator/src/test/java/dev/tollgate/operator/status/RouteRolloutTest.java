package dev.tollgate.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.operator.ledger.SpendLedger;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteRolloutTest {
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");
  private static final Duration LIVE = Duration.ofSeconds(30);

  private static SpendLedger ledger(String... versions) {
    SpendLedger l = new SpendLedger();
    int i = 0;
    for (String v : versions) {
      SpendLedger.Reporter r = new SpendLedger.Reporter();
      r.configVersion = v;
      r.lastSeen = NOW.minusSeconds(1).toString();
      l.reporters.put("uid-" + i++ + "/boot", r);
    }
    SpendLedger.Reporter gone = new SpendLedger.Reporter();
    gone.configVersion = "v0";
    gone.lastSeen = NOW.minusSeconds(60).toString();
    l.reporters.put("uid-gone/boot", gone);
    return l;
  }

  private static LLMRouteStatus rendered(List<Condition> before, Instant at) {
    LLMRouteStatus s = new LLMRouteStatus();
    s.setConditions(Conditions.set(before, Conditions.READY, true, "Rendered", "rendered", 1L, at));
    return s;
  }

  private static Condition ready(LLMRouteStatus s) {
    return Conditions.find(s.getConditions(), Conditions.READY).orElseThrow();
  }

  @Test
  void readyOnlyWhenEveryLiveSidecarRunsTheCurrentVersion() {
    LLMRouteStatus s = rendered(null, NOW);
    RouteUsageStatus.rollout(s, ledger("v2", "v1", "v2"), "v2", NOW, LIVE);
    assertThat(s.getSidecars().getTotal()).isEqualTo(3);
    assertThat(s.getSidecars().getUpToDate()).isEqualTo(2);
    RouteUsageStatus.readyWhenRolledOut(s, null, "v2", 1L, NOW);
    assertThat(ready(s).getStatus()).isEqualTo("False");
    assertThat(ready(s).getReason()).isEqualTo("RollingOut");
    assertThat(ready(s).getMessage()).startsWith("2 of 3 live sidecars run configuration v2");

    // the next reconcile, still rolling out: the transition time stays
    List<Condition> before = s.getConditions();
    LLMRouteStatus again = rendered(before, NOW.plusSeconds(5));
    RouteUsageStatus.rollout(again, ledger("v2", "v1", "v2"), "v2", NOW, LIVE);
    RouteUsageStatus.readyWhenRolledOut(again, before, "v2", 1L, NOW.plusSeconds(5));
    assertThat(ready(again).getLastTransitionTime()).isEqualTo(ready(s).getLastTransitionTime());

    // all on it (the silent sidecar on v0 does not count): Ready
    LLMRouteStatus done = rendered(again.getConditions(), NOW.plusSeconds(10));
    RouteUsageStatus.rollout(done, ledger("v2", "v2"), "v2", NOW, LIVE);
    RouteUsageStatus.readyWhenRolledOut(done, again.getConditions(), "v2", 1L, NOW);
    assertThat(ready(done).getStatus()).isEqualTo("True");
    assertThat(done.getSidecars().getUpToDate()).isEqualTo(2);
  }

  @Test
  void aRouteThatIsNotReadyForAnotherReasonKeepsThatReason() {
    LLMRouteStatus s = new LLMRouteStatus();
    s.setConditions(
        Conditions.set(null, Conditions.READY, false, "NotAccepted", "invalid", 1L, NOW));
    RouteUsageStatus.rollout(s, ledger("v1"), "v2", NOW, LIVE);
    RouteUsageStatus.readyWhenRolledOut(s, null, "v2", 1L, NOW);
    assertThat(ready(s).getReason()).isEqualTo("NotAccepted");
  }
}
