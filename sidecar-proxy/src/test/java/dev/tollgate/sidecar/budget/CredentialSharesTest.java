package dev.tollgate.sidecar.budget;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.routing.Limiter;
import dev.tollgate.sidecar.routing.RateLimits;
import java.util.List;
import org.junit.jupiter.api.Test;

class CredentialSharesTest {
  private static CredentialConfig limited(String name, int rpm) {
    return CredentialConfig.builder(name, ProviderKind.OPENAI)
        .apiKeyFile("/k")
        .limits(new CredentialConfig.Limits(rpm, null))
        .build();
  }

  private static int take(Limiter l, int tries) {
    int taken = 0;
    for (int i = 0; i < tries; i++) {
      if (l.tryTake(0).isZero()) {
        taken++;
      }
    }
    return taken;
  }

  @Test
  void limitedCredentialsWaitForTheFirstReplyThenTakeTheirShare() {
    RateLimits limits = new RateLimits();
    CredentialShares shares = new CredentialShares(limits);
    CredentialConfig shared = limited("shared", 90);
    CredentialConfig unnamed = limited("unnamed", 12);
    // before the first reply: the other pods may hold the whole account
    assertThat(take(limits.credential(shared), 3)).isZero();
    assertThat(take(limits.credential(unnamed), 3)).isZero();

    shares.accept(
        new ReportReply(
            1, "v1", List.of(), List.of(new ReportReply.CredentialShare("shared", 30L, null, 3))));
    assertThat(take(limits.credential(shared), 60)).isBetween(30, 31);
    // not divided by the operator: its configured limit
    assertThat(take(limits.credential(unnamed), 30)).isBetween(12, 13);

    // a reply without the field (an older operator) changes nothing already shared
    shares.accept(new ReportReply(2, "v1", List.of()));
    assertThat(take(limits.credential(shared), 5)).isLessThanOrEqualTo(1);
  }
}
