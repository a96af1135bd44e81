package dev.tollgate.sidecar.metering;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.Usage;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The pod's own workload as one bounded series per sidecar, for the dashboard's spend panels. */
class WorkloadMetricsTest {

  private static CallRecord call(String id, String usd) {
    return CallRecord.builder()
        .requestId(id)
        .route("chat")
        .target("openai", "oa", "gpt-4o-mini")
        .outcome(200, null)
        .usage(new Usage(100, 10, 0, 0), true)
        .cost(new Cost(new BigDecimal(usd), true))
        .timing(1_000_000L, 500_000L)
        .build();
  }

  @Test
  void everyCallCountsUnderThePodsOwnWorkloadAndServiceAccount() {
    ProxyMetrics m = new ProxyMetrics();
    m.started("chat");
    m.ended(call("r0", "0.5"));
    assertThat(text(m)).as("no workload known: no series").doesNotContain("tollgate_workload_");

    m.workload("Deployment", "web", "web-sa");
    m.started("chat");
    m.ended(call("r1", "0.25"));
    m.started("chat");
    m.ended(call("r2", "0.5"));
    String labels = "{service_account=\"web-sa\",workload=\"web\",workload_kind=\"Deployment\"}";
    assertThat(text(m))
        .contains("tollgate_workload_requests_total" + labels + " 2.0")
        .contains("tollgate_workload_cost_usd_total" + labels + " 0.75");
  }

  private static String text(ProxyMetrics m) {
    return new String(m.scrape(), StandardCharsets.UTF_8);
  }
}
