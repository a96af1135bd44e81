package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.routing.RateLimits;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AdmissionTest {
  private final RateLimits limits = new RateLimits();

  @Test
  void aRouteWithoutLimitsAdmitsAtOnce() {
    Admission a = new Admission(limits, CallTestConfigs.route("chat"), h -> null);
    a.reserve(100);
    assertThat(a.tryAdmit()).isZero();
    assertThat(a.queue(Duration.ofMillis(1))).as("no queueing allowance").isFalse();
  }

  @Test
  void aCallOverTheRouteLimitWaitsWithinMaxQueueWaitThenGets429() {
    RouteConfig limited = CallTestConfigs.route("limited");
    Admission first = new Admission(limits, limited, h -> null);
    assertThat(first.tryAdmit()).isZero();
    Admission second = new Admission(limits, limited, h -> null);
    Duration wait = second.tryAdmit();
    assertThat(wait).isPositive();
    assertThat(second.queue(Duration.ofSeconds(1))).isTrue();
    assertThat(second.queue(Duration.ofSeconds(1))).isTrue();
    assertThat(second.queue(Duration.ofMillis(1))).as("2 s allowed in all").isFalse();
    ProxyException refused = second.refused("limited", Duration.ofMillis(1500));
    assertThat(refused.kind()).isEqualTo(ErrorKind.RATE_LIMITED);
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.retryAfter()).isEqualTo("2");
    assertThat(refused.getMessage())
        .isEqualTo("the route rate limit of route limited is reached; retry after 2 s");
  }

  @Test
  void retryAfterIsAtLeastOneSecond() {
    assertThat(Admission.limited("x", Duration.ofMillis(10)).retryAfter()).isEqualTo("1");
    assertThat(Admission.limited("x", Duration.ofMillis(1001)).retryAfter()).isEqualTo("2");
  }

  @Test
  void aCredentialLimitedRouteFailsOverByDefault() {
    assertThat(
            new Admission(limits, CallTestConfigs.route("chat"), h -> null).failoverWhenLimited())
        .isTrue();
  }
}
