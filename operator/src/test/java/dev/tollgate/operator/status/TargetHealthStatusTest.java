package dev.tollgate.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Health;
import dev.tollgate.api.v1alpha1.LLMRouteStatus;
import dev.tollgate.api.v1alpha1.ProviderCredentialStatus;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.config.report.UsageReport.TargetState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Circuit state and TTFT percentiles, as live sidecars report them, in the resources' status. */
class TargetHealthStatusTest {
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");
  private static final Duration LIVE = Duration.ofSeconds(30);

  private static void reporter(
      SpendLedger ledger, String pod, Instant seen, boolean ended, TargetState... targets) {
    SpendLedger.Reporter r = new SpendLedger.Reporter();
    r.namespaceAndPod = "ns/" + pod;
    r.lastSeen = seen.toString();
    r.ended = ended ? Boolean.TRUE : null;
    r.targets = List.of(targets);
    ledger.reporters.put("uid-" + pod + "/boot", r);
  }

  private static TargetState state(
      String credential,
      String model,
      String circuit,
      int calls,
      float errors,
      long p50,
      long p95) {
    return new TargetState(
        "chat", "main", credential, model, circuit, calls, errors, p50, p95, null, null);
  }

  @Test
  void oneSidecarsOpenCircuitShowsOnTheRouteAndATargetWithoutTrafficIsListed() {
    SpendLedger ledger = new SpendLedger();
    SpendLedger.RouteUsage usage = new SpendLedger.RouteUsage();
    usage.requests = 100;
    usage.targets.put("openai/gpt-4o", 100L);
    reporter(
        ledger,
        "a",
        NOW,
        false,
        state("openai", "gpt-4o", "Closed", 60, 0f, 200, 400),
        state("groq", "llama", "Open", 10, 100f, -1, -1));
    reporter(
        ledger,
        "b",
        NOW,
        false,
        state("openai", "gpt-4o", "HalfOpen", 40, 10f, 250, 500),
        state("groq", "llama", "Closed", 0, 0f, -1, -1));
    // a sidecar that ended or went silent no longer speaks for the target
    reporter(ledger, "gone", NOW, true, state("openai", "gpt-4o", "Open", 5, 100f, 9, 9));
    reporter(
        ledger,
        "silent",
        NOW.minusSeconds(120),
        false,
        state("openai", "gpt-4o", "Open", 5, 100f, 9, 9));

    LLMRouteStatus status = new LLMRouteStatus();
    RouteUsageStatus.apply(status, usage);
    RouteUsageStatus.circuits(status, ledger, "chat", NOW, LIVE);

    assertThat(status.getTargets())
        .extracting(
            LLMRouteStatus.TargetStatus::getCredential,
            LLMRouteStatus.TargetStatus::getCircuit,
            LLMRouteStatus.TargetStatus::getHealth,
            LLMRouteStatus.TargetStatus::getRequests)
        .containsExactlyInAnyOrder(
            // 4 failures in 100 calls: under 5 %, but one sidecar is probing it
            org.assertj.core.groups.Tuple.tuple("openai", "HalfOpen", Health.DEGRADED, 100L),
            org.assertj.core.groups.Tuple.tuple("groq", "Open", Health.UNAVAILABLE, 0L));
  }

  @Test
  void credentialTtftIsTheCallsWeightedMedianAndTheHighestP95OfLiveSidecars() {
    SpendLedger ledger = new SpendLedger();
    SpendLedger.TargetHealth h = new SpendLedger.TargetHealth();
    long minute = NOW.getEpochSecond() / 60;
    h.minutes.put(minute, new long[] {100, 0});
    ledger.health.put("openai/gpt-4o", h);
    // (60 * 200 + 20 * 500) / 80 = 275
    reporter(ledger, "a", NOW, false, state("openai", "gpt-4o", "Closed", 60, 0f, 200, 400));
    reporter(ledger, "b", NOW, false, state("openai", "gpt-4o", "Closed", 20, 0f, 500, 900));
    // no streamed call yet: no percentiles, and it does not drag the median
    reporter(ledger, "c", NOW, false, state("openai", "gpt-4o", "Closed", 50, 0f, -1, -1));
    reporter(
        ledger,
        "old",
        NOW.minusSeconds(120),
        false,
        state("openai", "gpt-4o", "Closed", 9, 0f, 5000, 9000));

    ProviderCredentialStatus status = new ProviderCredentialStatus();
    CredentialHealthStatus.apply(status, "openai", ledger, NOW);

    assertThat(status.getHealth())
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.getTtftP50Millis()).isEqualTo(275);
              assertThat(m.getTtftP95Millis()).isEqualTo(900);
            });
  }
}
