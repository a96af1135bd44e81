package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.budget.CallerQuotas;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.BudgetConfig;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.metering.CostCalculator;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.wire.ErrorKind;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CallEndTest {
  private final ProxyMetrics metrics = new ProxyMetrics();
  private final UsageLedger ledger = new UsageLedger();
  private final CallerQuotas callers = new CallerQuotas();
  private final List<String> unpriced = new ArrayList<>();
  private final CallEnd exit =
      new CallEnd(
          metrics,
          ledger,
          callers,
          new CostCalculator(PriceCatalogue.builtIn()),
          (credential, model) -> unpriced.add(credential + "/" + model));
  private final CallerQuotas.Caller alice =
      new CallerQuotas.Caller("b1", "alice", new BigDecimal("10"), BudgetConfig.Period.MONTHLY);

  private static CallRecord.Builder call(String credential, Usage usage, Cost cost) {
    return CallRecord.builder()
        .requestId("r")
        .api("openai")
        .route("chat")
        .tier("main")
        .target(credential == null ? null : "openai", credential, "gpt-4o-mini")
        .outcome(200, null)
        .usage(usage, usage != null)
        .cost(cost);
  }

  @Test
  void aCallToAProviderIsMeteredInTheLedgerTheMetricsAndTheCallersQuota() {
    Usage usage = new Usage(1000, 100, 0, 0);
    CredentialConfig a = CallTestConfigs.config().credential("a").orElseThrow();
    Cost cost = exit.cost(a, "gpt-4o-mini", usage);
    assertThat(cost.priced()).isTrue();
    exit.meter(call("a", usage, cost).build(), alice);
    UsageLedger.Totals t = ledger.total();
    assertThat(t.requests()).isEqualTo(1);
    assertThat(t.inputTokens()).isEqualTo(1000);
    assertThat(t.costUsd()).isEqualByComparingTo(cost.usd());
    assertThat(callers.drain())
        .singleElement()
        .satisfies(s -> assertThat(new BigDecimal(s.costUsd())).isEqualByComparingTo(cost.usd()));
    assertThat(new String(metrics.scrape(), StandardCharsets.UTF_8))
        .contains("tollgate_requests_total");
  }

  @Test
  void aCallRefusedBeforeAnyProviderSpendsNothing() {
    exit.meter(
        CallRecord.builder()
            .requestId("r")
            .api("openai")
            .outcome(400, ErrorKind.INVALID_REQUEST)
            .build(),
        alice);
    assertThat(ledger.total().requests()).isZero();
    assertThat(callers.drain()).isEmpty();
  }

  @Test
  void anUnpricedCallCountsForTheCallerAtZeroAndIsReportedOnce() {
    CallRecord r = call("a", new Usage(10, 1, 0, 0), Cost.UNPRICED).build();
    exit.meter(r, alice);
    exit.warnIfUnpriced(r);
    assertThat(unpriced).containsExactly("a/gpt-4o-mini");
    assertThat(callers.drain())
        .singleElement()
        .satisfies(s -> assertThat(s.requests()).isEqualTo(1));
    assertThat(exit.cost(null, "m", new Usage(1, 1, 0, 0))).isEqualTo(Cost.UNPRICED);
    assertThat(exit.cost(CallTestConfigs.config().credential("a").orElseThrow(), "m", null))
        .isEqualTo(Cost.UNPRICED);
  }

  @Test
  void theRecordBuilderDefaultsAreThoseOfACallThatNeverReachedAProvider() {
    CallRecord r = CallRecord.builder().requestId("r").api("anthropic").build();
    assertThat(r.route()).isEqualTo(CallRecord.UNKNOWN);
    assertThat(r.ttftNanos()).isEqualTo(-1);
    assertThat(r.cost()).isEqualTo(Cost.UNPRICED);
    assertThat(r.provider()).isNull();
    assertThat(r.usageComplete()).isFalse();
  }
}
