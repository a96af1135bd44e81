package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@link RouteConfig.CircuitBreaker}'s written-out equals/hashCode (issue #24) keep the record's
 * meaning: equal exactly when every setting is, defaults included; a target's health starts afresh
 * when any one of them changes.
 */
class CircuitBreakerEqualityTest {
  private static RouteConfig.CircuitBreaker breaker(
      Integer rate, Duration slow, Duration window, Integer min, Duration cooldown) {
    return new RouteConfig.CircuitBreaker(rate, slow, window, min, cooldown);
  }

  @Test
  void equalWhenEverySettingIsDefaultsIncluded() {
    var explicit =
        breaker(10, Duration.ofSeconds(2), Duration.ofSeconds(60), 20, Duration.ofSeconds(30));
    assertThat(RouteConfig.CircuitBreaker.defaults()).isEqualTo(explicit);
    assertThat(RouteConfig.CircuitBreaker.defaults().hashCode()).isEqualTo(explicit.hashCode());
    assertThat(explicit).isNotEqualTo(null).isNotEqualTo("breaker");
  }

  @Test
  void differsWhenAnyOneSettingDoes() {
    var base = RouteConfig.CircuitBreaker.defaults();
    assertThat(breaker(11, null, null, null, null)).isNotEqualTo(base);
    assertThat(breaker(null, Duration.ofSeconds(3), null, null, null)).isNotEqualTo(base);
    assertThat(breaker(null, null, Duration.ofSeconds(61), null, null)).isNotEqualTo(base);
    assertThat(breaker(null, null, null, 21, null)).isNotEqualTo(base);
    assertThat(breaker(null, null, null, null, Duration.ofSeconds(31))).isNotEqualTo(base);
  }
}
