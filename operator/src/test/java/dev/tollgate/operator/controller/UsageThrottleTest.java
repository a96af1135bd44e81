package dev.tollgate.operator.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.operator.Fixtures;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Usage-only status changes are patched at most once per interval; others at once. */
class UsageThrottleTest {
  private final AtomicReference<Instant> now =
      new AtomicReference<>(Instant.parse("2026-03-15T12:00:00Z"));
  private final Clock clock =
      new Clock() {
        @Override
        public java.time.ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return now.get();
        }
      };

  @Test
  void usageOnlyChangesWaitForTheIntervalSignificantOnesDoNot() {
    UsageThrottle throttle = new UsageThrottle(Duration.ofSeconds(15), clock);
    Budget budget = Fixtures.budget("ns", "monthly", "10");
    assertThat(throttle.hold(budget, false)).as("the first usage patch goes out").isNull();
    now.set(now.get().plusSeconds(5));
    assertThat(throttle.hold(budget, false)).isEqualTo(Duration.ofMillis(10_050));
    assertThat(throttle.hold(Fixtures.budget("ns", "other", "10"), false))
        .as("per object")
        .isNull();
    assertThat(throttle.hold(budget, true)).as("a phase change goes out at once").isNull();
    now.set(now.get().plusSeconds(14));
    assertThat(throttle.hold(budget, false)).isNotNull();
    now.set(now.get().plusSeconds(1));
    assertThat(throttle.hold(budget, false)).isNull();
    assertThat(new UsageThrottle(Duration.ZERO, clock).hold(budget, false)).isNull();
  }

  @Test
  void aBudgetsSpendFiguresAloneAreNotSignificantItsPhaseAndThresholdsAre() {
    BudgetStatus old = budgetStatus("1.00", BudgetStatus.Phase.OK, List.of());
    assertThat(
            BudgetReconciler.significant(
                old, budgetStatus("2.00", BudgetStatus.Phase.OK, List.of())))
        .isFalse();
    assertThat(
            BudgetReconciler.significant(
                old, budgetStatus("8.00", BudgetStatus.Phase.WARNING, List.of(80))))
        .isTrue();
    assertThat(
            BudgetReconciler.significant(
                old, budgetStatus("10.00", BudgetStatus.Phase.EXCEEDED, List.of())))
        .isTrue();
    assertThat(BudgetReconciler.significant(null, old)).isTrue();
  }

  @Test
  void aRoutesUsageAloneIsNotSignificantACircuitIs() {
    LLMRouteStatus old = routeStatus(10, "Closed");
    assertThat(LLMRouteReconciler.significant(old, routeStatus(20, "Closed"))).isFalse();
    assertThat(LLMRouteReconciler.significant(old, routeStatus(20, "Open"))).isTrue();
  }

  private static BudgetStatus budgetStatus(
      String spent, BudgetStatus.Phase phase, List<Integer> alerts) {
    BudgetStatus s = new BudgetStatus();
    s.setSpent(spent);
    s.setPercentUsed(spent);
    s.setPhase(phase);
    s.setAlertsFired(new java.util.ArrayList<>(alerts));
    return s;
  }

  private static LLMRouteStatus routeStatus(long requests, String circuit) {
    LLMRouteStatus s = new LLMRouteStatus();
    LLMRouteStatus.RouteUsage u = new LLMRouteStatus.RouteUsage();
    u.setRequests(requests);
    s.setUsage(u);
    LLMRouteStatus.TargetStatus t = new LLMRouteStatus.TargetStatus();
    t.setTier("main");
    t.setModel("gpt-4o");
    t.setCircuit(circuit);
    t.setRequests(requests);
    s.setTargets(new java.util.ArrayList<>(List.of(t)));
    return s;
  }
}
