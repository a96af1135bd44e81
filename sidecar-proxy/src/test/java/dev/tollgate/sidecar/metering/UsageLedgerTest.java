package dev.tollgate.sidecar.metering;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.wire.ErrorKind;
import java.math.BigDecimal;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UsageLedgerTest {

  @Test
  void aFailedAttemptIsKeptApartFromTheCallItBelongsTo() {
    UsageLedger ledger = new UsageLedger();
    UsageLedger.Key primary = new UsageLedger.Key("chat", "main", "groq", "llama");

    ledger.recordFailedAttempt(primary, ErrorKind.UPSTREAM_ERROR);
    ledger.record(
        CallRecord.builder()
            .requestId("r1")
            .api("openai")
            .route("chat")
            .tier("main")
            .target("anthropic", "anthropic", "claude")
            .outcome(200, null)
            .usage(new Usage(10, 5, 0, 0), true)
            .cost(new Cost(new BigDecimal("0.01"), true))
            .timing(1, -1)
            .finishReason("stop")
            .failovers(1)
            .upstreamStatus(200)
            .build());

    UsageLedger.Totals failed = ledger.snapshot().get(primary);
    assertThat(failed.requests()).isZero();
    assertThat(failed.errors()).isEmpty();
    assertThat(failed.failedAttempts()).isEqualTo(Map.of(ErrorKind.UPSTREAM_ERROR, 1L));
    UsageLedger.Totals total = ledger.total();
    assertThat(total.requests()).isEqualTo(1);
    assertThat(total.failovers()).isEqualTo(1);
    assertThat(total.failedAttempts()).isEqualTo(Map.of(ErrorKind.UPSTREAM_ERROR, 1L));
  }

  private static CallRecord call(String api, long input, String cost) {
    return CallRecord.builder()
        .requestId("r")
        .api(api)
        .route("claude")
        .tier("main")
        .target("anthropic", "anthropic", "claude")
        .outcome(200, null)
        .usage(new Usage(input, 0, 0, 0), true)
        .cost(new Cost(new BigDecimal(cost), true))
        .timing(0, -1)
        .finishReason("stop")
        .failovers(1)
        .upstreamStatus(200)
        .build();
  }

  @Test
  void callsAreAlsoCountedByEndpointKind() {
    UsageLedger ledger = new UsageLedger();
    ledger.record(call("openai", 10, "0.01"));
    ledger.record(call("anthropic", 5, "0.02"));
    ledger.record(call("count_tokens", 0, "0"));
    ledger.record(call("probe", 1, "0"));

    Map<String, UsageLedger.EndpointTotals> by =
        ledger
            .snapshot()
            .get(new UsageLedger.Key("claude", "main", "anthropic", "claude"))
            .byEndpoint();
    assertThat(by).containsOnlyKeys("chat", "count_tokens", "other");
    assertThat(by.get("chat").requests()).isEqualTo(2);
    assertThat(by.get("chat").inputTokens()).isEqualTo(15);
    assertThat(by.get("chat").cost()).isEqualByComparingTo("0.03");
    assertThat(by.get("count_tokens").requests()).isEqualTo(1);
    assertThat(ledger.total().byEndpoint().get("chat").requests()).isEqualTo(2);
  }
}
