package dev.tollgate.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.RouteConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class WeightedSplitTest {
  private static final List<RouteConfig.Target> TARGETS =
      List.of(
          new RouteConfig.Target("a", "big", 90),
          new RouteConfig.Target("b", "small", 9),
          new RouteConfig.Target("c", "canary", 1),
          new RouteConfig.Target("d", "off", 0));

  @Test
  void weightsHoldWithinStatisticalToleranceOverTenThousandRequests() {
    Map<String, Integer> counts = new HashMap<>();
    int n = 10_000;
    for (int i = 0; i < n; i++) {
      // request ids as the sidecar makes them, and sequential ones, which must spread too
      String id = i % 2 == 0 ? UUID.randomUUID().toString() : "req-" + i;
      counts.merge(WeightedSplit.pick(TARGETS, id).model(), 1, Integer::sum);
    }
    // tolerance: 4 standard deviations of a binomial(n, p)
    assertWithin(counts.getOrDefault("big", 0), n, 0.90);
    assertWithin(counts.getOrDefault("small", 0), n, 0.09);
    assertWithin(counts.getOrDefault("canary", 0), n, 0.01);
    assertThat(counts).doesNotContainKey("off");
  }

  private static void assertWithin(int count, int n, double p) {
    double sd = Math.sqrt(n * p * (1 - p));
    assertThat((double) count).isBetween(n * p - 4 * sd, n * p + 4 * sd);
  }

  @Test
  void sameKeyAlwaysLandsOnTheSameTargetAndTheOthersFollowAsFallbacks() {
    for (int i = 0; i < 100; i++) {
      String id = "conversation-" + i;
      RouteConfig.Target first = WeightedSplit.pick(TARGETS, id);
      assertThat(WeightedSplit.pick(TARGETS, id)).isSameAs(first);
      List<RouteConfig.Target> order = WeightedSplit.order(TARGETS, id);
      assertThat(order.get(0)).isSameAs(first);
      assertThat(order).containsExactlyInAnyOrderElementsOf(TARGETS);
    }
  }
}
