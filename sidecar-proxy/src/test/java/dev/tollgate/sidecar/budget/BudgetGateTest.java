package dev.tollgate.sidecar.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.sidecar.config.BudgetConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BudgetGateTest {
  private static final RouteConfig.Tier MAIN =
      new RouteConfig.Tier(
          "main", null, List.of(new RouteConfig.Target("openai", "gpt-4o", null)), null, null);
  private static final RouteConfig.Tier CHEAP =
      new RouteConfig.Tier(
          "cheap",
          new RouteConfig.Match(null, null, List.of("never"), null, null, null),
          List.of(new RouteConfig.Target("openai", "gpt-4o-mini", null)),
          List.of(new RouteConfig.TargetRef("groq", "llama")),
          null);
  private static final RouteConfig ROUTE =
      RouteConfig.builder("chat", List.of(MAIN, CHEAP)).budget("monthly").build();

  private static SidecarConfig config(
      BudgetConfig.ExceededAction action, BudgetConfig.Downgrade d) {
    return new SidecarConfig(
        "v1",
        "ns",
        null,
        List.of(ROUTE),
        List.of(),
        List.of(
            new BudgetConfig("monthly", new BigDecimal("1"), null, null, action, d, null, null)));
  }

  private static ReportReply reply(String phase, String action, String allowance) {
    return new ReportReply(
        1, null, List.of(new ReportReply.BudgetState("monthly", phase, action, allowance, "0")));
  }

  private static CallRecord call(String cost) {
    return CallRecord.builder()
        .requestId("r")
        .api("openai")
        .route("chat")
        .tier("main")
        .target("openai", "openai", "gpt-4o")
        .outcome(200, null)
        .usage(null, true)
        .cost(new Cost(new BigDecimal(cost), true))
        .timing(0, 0)
        .upstreamStatus(200)
        .build();
  }

  @Test
  void nothingIsEnforcedBeforeTheFirstReply() {
    BudgetGate gate = new BudgetGate();
    assertThat(gate.admit(ROUTE, config(BudgetConfig.ExceededAction.BLOCK, null))).isSameAs(ROUTE);
  }

  @Test
  void anExhaustedBlockingBudgetBlocksUnroutedCallsToo() {
    BudgetGate gate = new BudgetGate();
    SidecarConfig cfg = config(BudgetConfig.ExceededAction.BLOCK, null);
    assertThat(gate.blocksUnrouted(cfg)).isNull();
    gate.update(reply("Exceeded", "Downgrade", "0"), Map.of());
    assertThat(gate.blocksUnrouted(cfg)).as("only Block blocks passthrough").isNull();
    gate.update(reply("Exceeded", "Block", "0"), Map.of());
    assertThat(gate.blocksUnrouted(cfg))
        .satisfies(e -> assertThat(e.kind()).isEqualTo(ErrorKind.BUDGET_EXCEEDED))
        .hasMessageContaining("passthrough calls are blocked");
  }

  /**
   * Two batches submitted back to back, before the operator's reply to the report carrying the
   * first: the first one's estimate counts until that reply holds it, so the second does not fit.
   */
  @Test
  void anAdmittedBatchCountsAgainstTheBudgetUntilTheOperatorHoldsIt() {
    BudgetGate gate = new BudgetGate();
    SidecarConfig cfg = config(BudgetConfig.ExceededAction.BLOCK, null);
    gate.update(reply("Ok", "Block", "0.30"), Map.of());
    assertThat(gate.admitsBatch(cfg, "monthly", new BigDecimal("0.60"))).isNull();
    gate.batchAdmitted(Map.of("monthly", "0.60"));
    assertThat(gate.admitsBatch(cfg, "monthly", new BigDecimal("0.60")))
        .isNotNull()
        .hasMessageContaining("about 0.400000 USD left");
    Map<String, BigDecimal> marks = gate.marks(); // the report carrying the batch is built
    // the operator's reply holds the estimate: 60 % of the limit used, the sidecar counts it no
    // more
    gate.update(
        new ReportReply(
            1, null, List.of(new ReportReply.BudgetState("monthly", "Ok", "Block", "0.30", "60"))),
        marks);
    assertThat(gate.admitsBatch(cfg, "monthly", new BigDecimal("0.40"))).isNull();
    assertThat(gate.admitsBatch(cfg, "monthly", new BigDecimal("0.41"))).isNotNull();
  }

  @Test
  void blockOnceThisPodsAllowanceIsSpent() {
    BudgetGate gate = new BudgetGate();
    SidecarConfig cfg = config(BudgetConfig.ExceededAction.BLOCK, null);
    gate.update(reply("Ok", "Block", "0.30"), Map.of());
    gate.recorded(call("0.20"), cfg);
    assertThat(gate.admit(ROUTE, cfg)).isSameAs(ROUTE);
    gate.recorded(call("0.10"), cfg);
    assertThatThrownBy(() -> gate.admit(ROUTE, cfg))
        .isInstanceOfSatisfying(
            ProxyException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.BUDGET_EXCEEDED))
        .hasMessageContaining("budget monthly of namespace ns");
    // the next reply grants more, counted from spend at the time its report was built
    gate.update(reply("Warning", "Block", "0.10"), gate.marks());
    assertThat(gate.admit(ROUTE, cfg)).isSameAs(ROUTE);
  }

  /**
   * Eight callers arrive together when 0.0875 of a 0.10 allowance is spent, at 0.0125 a call.
   * Without holds all eight were admitted (0.1875 spent: 88 % over the allowance); with each call
   * holding the typical cost while in flight, one is, and the spend ends at the allowance.
   */
  @Test
  void callsInFlightHoldTheirTypicalCostAgainstTheAllowance() {
    BudgetGate gate = new BudgetGate();
    SidecarConfig cfg = config(BudgetConfig.ExceededAction.BLOCK, null);
    gate.update(reply("Warning", "Block", "0.10"), Map.of());
    for (int i = 0; i < 7; i++) {
      gate.recorded(call("0.0125"), cfg);
    }
    List<BudgetGate.Hold> inFlight = new java.util.ArrayList<>();
    int refused = 0;
    for (int caller = 0; caller < 8; caller++) {
      try {
        gate.admit(ROUTE, cfg);
        inFlight.add(gate.hold("monthly"));
      } catch (ProxyException e) {
        refused++;
      }
    }
    assertThat(inFlight).hasSize(1);
    assertThat(refused).isEqualTo(7);

    // the call ends: its hold goes, its real cost stays; the allowance is spent, not exceeded
    gate.recorded(call("0.0125"), cfg);
    inFlight.forEach(gate::release);
    inFlight.forEach(gate::release); // twice is once
    assertThat(gate.marks().get("monthly")).isEqualByComparingTo("0.1000");
    assertThatThrownBy(() -> gate.admit(ROUTE, cfg)).isInstanceOf(ProxyException.class);

    // a new share: holds are gone, calls are admitted again
    gate.update(reply("Warning", "Block", "0.05"), gate.marks());
    assertThat(gate.admit(ROUTE, cfg)).isSameAs(ROUTE);
  }

  @Test
  void nothingIsHeldBeforeAReplyOrAPricedCall() {
    BudgetGate gate = new BudgetGate();
    assertThat(gate.hold("monthly")).isNull();
    gate.update(reply("Ok", "Block", "1"), Map.of());
    assertThat(gate.hold("monthly")).isNull();
    assertThat(gate.hold(null)).isNull();
    gate.release(null);
  }

  @Test
  void downgradeNarrowsTheRouteToTheTierOrTarget() {
    BudgetGate gate = new BudgetGate();
    gate.update(reply("Exceeded", "Downgrade", "0"), Map.of());
    RouteConfig byTier =
        gate.admit(
            ROUTE,
            config(
                BudgetConfig.ExceededAction.DOWNGRADE, new BudgetConfig.Downgrade("cheap", null)));
    assertThat(byTier.tiers())
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.name()).isEqualTo("cheap");
              assertThat(t.when()).isNull();
              // the downgrade tier keeps its own (cheap) fallbacks; the replaced tiers are gone
              assertThat(t.fallbacks())
                  .extracting(f -> f.credential() + "/" + f.model())
                  .containsExactly("groq/llama");
            });
    assertThat(byTier.budget()).isEqualTo("monthly");
    RouteConfig byTarget =
        gate.admit(
            ROUTE,
            config(
                BudgetConfig.ExceededAction.DOWNGRADE,
                new BudgetConfig.Downgrade(null, new RouteConfig.TargetRef("groq", "llama"))));
    assertThat(byTarget.tiers())
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.targets())
                  .singleElement()
                  .satisfies(
                      x -> assertThat(x.credential() + "/" + x.model()).isEqualTo("groq/llama"));
              // one named target: nothing to fall back to, by design (see operator/README.md)
              assertThat(t.fallbacks()).isEmpty();
            });
  }

  @Test
  void alertOnlyNeverBlocks() {
    BudgetGate gate = new BudgetGate();
    gate.update(reply("Exceeded", "AlertOnly", "0"), Map.of());
    assertThat(gate.admit(ROUTE, config(BudgetConfig.ExceededAction.ALERT_ONLY, null)))
        .isSameAs(ROUTE);
  }
}
