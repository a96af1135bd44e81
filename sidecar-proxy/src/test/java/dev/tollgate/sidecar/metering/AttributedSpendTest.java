package dev.tollgate.sidecar.metering;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class AttributedSpendTest {
  private static CallRecord call(String route, String user, String feature, String usd) {
    return CallRecord.builder()
        .requestId("r")
        .api("openai")
        .route(route)
        .tier("main")
        .target("openai", "openai", "gpt-4o")
        .outcome(200, null)
        .cost(new Cost(new BigDecimal(usd), true))
        .attribution(new Attribution(user, feature, null, null, null, null, 0), 0)
        .build();
  }

  @Test
  void spendIsSummedPerRouteAndKeyAndDrainedOnce() {
    AttributedSpend spend = new AttributedSpend();
    spend.record(call("chat", "alice", "search", "0.10"));
    spend.record(call("chat", "alice", "search", "0.20"));
    spend.record(call("chat", "bob", null, "0.05"));
    spend.record(call("other", null, "search", "1"));
    AttributedSpend.Drained d = spend.drain(route -> route.equals("chat") ? "monthly" : null);
    assertThat(d.users())
        .containsExactly(
            new UsageReport.KeySpend("chat", "monthly", "alice", 2, "0.30"),
            new UsageReport.KeySpend("chat", "monthly", "bob", 1, "0.05"));
    assertThat(d.features())
        .containsExactly(
            new UsageReport.KeySpend("chat", "monthly", "search", 2, "0.30"),
            new UsageReport.KeySpend("other", null, "search", 1, "1"));
    assertThat(spend.drain(route -> null).isEmpty()).isTrue();
  }

  @Test
  void aReportCarriesTheBiggestKeysPerRouteAndSumsTheRestIntoOther() {
    AttributedSpend spend = new AttributedSpend();
    int n = UsageReport.Attribution.MAX_FEATURES_PER_ROUTE + 5;
    for (int i = 1; i <= n; i++) {
      spend.record(call("chat", null, "f" + i, "0." + String.format("%02d", i)));
    }
    AttributedSpend.Drained d = spend.drain(route -> null);
    assertThat(d.features()).hasSize(UsageReport.Attribution.MAX_FEATURES_PER_ROUTE + 1);
    assertThat(d.features().get(0).key()).isEqualTo("f" + n);
    UsageReport.KeySpend other = d.features().get(d.features().size() - 1);
    assertThat(other.key()).isEqualTo(UsageReport.Attribution.OTHER);
    assertThat(other.requests()).isEqualTo(5);
    assertThat(other.costUsd()).isEqualTo("0.15"); // 0.01 + ... + 0.05
  }
}
