package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** When an identity is renewed, and what calls get while it is missing, denied or expired. */
class CloudIdentityTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-02T10:00:00Z"));
  private final AtomicReference<Object> next = new AtomicReference<>();

  private CloudIdentity<String> identity() {
    return new CloudIdentity<>(
        "bedrock",
        "f",
        "AWS credentials",
        () -> {
          Object n = next.get();
          if (n instanceof Exception e) {
            throw e;
          }
          return new CloudIdentity.Fetched<>("creds", clock.instant().plus((Duration) n));
        },
        clock);
  }

  @Test
  void beforeTheFirstFetchCallsGetA503ThatSaysSo() {
    CloudIdentity<String> id = identity();
    assertThat(id.due()).isTrue();
    assertThatThrownBy(id::current)
        .isInstanceOf(ProxyException.class)
        .hasMessageContaining("AWS credentials of credential bedrock")
        .hasMessageContaining("not fetched yet")
        .extracting(e -> ((ProxyException) e).kind())
        .isEqualTo(ErrorKind.MISSING_CREDENTIAL);
  }

  @Test
  void renewedFiveMinutesBeforeExpiry() {
    CloudIdentity<String> id = identity();
    next.set(Duration.ofHours(1));
    id.refresh();
    assertThat(id.current()).isEqualTo("creds");
    clock.now = clock.now.plus(Duration.ofMinutes(54));
    assertThat(id.due()).isFalse();
    clock.now = clock.now.plus(Duration.ofMinutes(2));
    assertThat(id.due()).isTrue();
  }

  @Test
  void aFailedRenewalKeepsTheValidValueThenSaysWhyOnceExpired() {
    CloudIdentity<String> id = identity();
    next.set(Duration.ofMinutes(10));
    id.refresh();
    next.set(new IllegalStateException("Not authorized to perform sts:AssumeRoleWithWebIdentity"));
    clock.now = clock.now.plus(Duration.ofMinutes(6));
    id.refresh();
    assertThat(id.current()).isEqualTo("creds");
    assertThat(id.problem()).contains("Not authorized");
    clock.now = clock.now.plus(Duration.ofMinutes(5));
    assertThatThrownBy(id::current)
        .hasMessageContaining("expired at 2026-12-02T10:10:00Z")
        .hasMessageContaining("Not authorized to perform sts:AssumeRoleWithWebIdentity");
  }

  private static final class MutableClock extends Clock {
    Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
