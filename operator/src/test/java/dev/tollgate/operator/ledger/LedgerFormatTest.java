package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LedgerFormatTest {
  private static final UsageReport.TargetState TARGET =
      new UsageReport.TargetState(
          "chat", "main", "openai", "gpt-4o", "Open", 12, 25.5f, 420, 900, "upstream_5xx", null);

  @Test
  void targetSnapshotsAreStoredCompactlyAndReadBack() {
    SpendLedger ledger = new SpendLedger();
    SpendLedger.Reporter r = new SpendLedger.Reporter();
    r.targets = List.of(TARGET);
    ledger.reporters.put("uid/boot", r);

    String json = new String(ConfigMapLedgerStore.serialize(ledger), StandardCharsets.UTF_8);

    assertThat(json).contains("[\"chat\",\"main\",\"openai\",\"gpt-4o\",\"Open\",12,25.5,420,900");
    assertThat(json).doesNotContain("ttftP50Millis");
    assertThat(parse(json).reporters.get("uid/boot").targets).containsExactly(TARGET);
  }

  @Test
  void aLedgerWrittenByAnOlderOperatorStillReads() {
    String old =
        "{\"reporters\":{\"uid/boot\":{\"sequence\":3,\"lastSeen\":\"2026-12-01T10:00:00Z\","
            + "\"targets\":[{\"route\":\"chat\",\"tier\":\"main\",\"credential\":\"openai\","
            + "\"model\":\"gpt-4o\",\"circuit\":\"Open\",\"calls\":12,\"errorRatePercent\":25.5,"
            + "\"ttftP50Millis\":420,\"ttftP95Millis\":900,\"lastError\":\"upstream_5xx\"}]}},"
            + "\"health\":{\"openai/gpt-4o\":{\"minutes\":{\"29000000\":[3,1]},"
            + "\"pods\":{\"29000000\":[\"pod-a\"]}}}}";

    SpendLedger ledger = parse(old);

    assertThat(ledger.reporters.get("uid/boot").sequence).isEqualTo(3);
    assertThat(ledger.reporters.get("uid/boot").targets).containsExactly(TARGET);
    assertThat(ledger.health.get("openai/gpt-4o").minutes.get(29000000L)).containsExactly(3, 1);
  }

  private static SpendLedger parse(String json) {
    return ConfigMapLedgerStore.parse(
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName("tollgate-spend-ns")
            .endMetadata()
            .withData(Map.of("ledger.json", json))
            .build());
  }

  @Test
  void reportersAreStoredWithoutFieldNamesAndReadBackWhole() {
    SpendLedger ledger = new SpendLedger();
    SpendLedger.Reporter r = new SpendLedger.Reporter();
    r.namespaceAndPod = "ns/pod-a";
    r.sequence = 42;
    r.configVersion = "sha256:0123456789abcdef";
    r.lastSeen = "2026-12-01T10:00:00.123Z";
    r.grants.put("monthly", "1.25");
    r.ended = true;
    r.targets = List.of(TARGET);
    SpendLedger.RateShare share = new SpendLedger.RateShare();
    share.requestsPerMinute = 20L;
    r.rateShares.put("openai", share);
    r.called.put("openai/gpt-4o", 29000000L);
    ledger.reporters.put("uid/boot", r);

    String json = new String(ConfigMapLedgerStore.serialize(ledger), StandardCharsets.UTF_8);
    assertThat(json).doesNotContain("namespaceAndPod").doesNotContain("lastSeen");

    SpendLedger.Reporter back = parse(json).reporters.get("uid/boot");
    assertThat(back.namespaceAndPod).isEqualTo("ns/pod-a");
    assertThat(back.sequence).isEqualTo(42);
    assertThat(back.configVersion).isEqualTo(r.configVersion);
    assertThat(back.lastSeen).isEqualTo(r.lastSeen);
    assertThat(back.grants).containsEntry("monthly", "1.25");
    assertThat(back.ended).isTrue();
    assertThat(back.targets).containsExactly(TARGET);
    assertThat(back.rateShares.get("openai").requestsPerMinute).isEqualTo(20L);
    assertThat(back.called).containsEntry("openai/gpt-4o", 29000000L);
  }

  @Test
  void aReporterWithNothingGrantedReadsBackWithEmptyMapsNotNulls() {
    SpendLedger ledger = new SpendLedger();
    ledger.reporters.put("uid/boot", new SpendLedger.Reporter());

    SpendLedger.Reporter back =
        parse(new String(ConfigMapLedgerStore.serialize(ledger), StandardCharsets.UTF_8))
            .reporters
            .get("uid/boot");

    assertThat(back.grants).isEmpty();
    assertThat(back.rateShares).isEmpty();
    assertThat(back.called).isEmpty();
    assertThat(back.targets).isEmpty();
    assertThat(back.ended).isNull();
  }
}
