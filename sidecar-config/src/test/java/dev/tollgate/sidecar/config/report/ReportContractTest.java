package dev.tollgate.sidecar.config.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sidecars and operators of neighbouring versions understand each other's reports and replies. */
class ReportContractTest {
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  @Test
  void aReplyFromAnOperatorThatDoesNotDivideLimitsHasNoShares() throws Exception {
    ReportReply old =
        JSON.readValue(
            "{\"acknowledgedSequence\":3,\"configVersion\":\"v1\",\"budgets\":[]}",
            ReportReply.class);
    assertThat(old.credentialShares()).isEmpty();
    assertThat(old.acknowledgedSequence()).isEqualTo(3);
  }

  @Test
  void sharesAndTheLeavingFlagSurviveTheWire() throws Exception {
    ReportReply reply =
        new ReportReply(
            1, "v2", List.of(), List.of(new ReportReply.CredentialShare("openai", 20L, null, 3)));
    assertThat(JSON.readValue(JSON.writeValueAsBytes(reply), ReportReply.class)).isEqualTo(reply);

    UsageReport leaving =
        UsageReport.builder("ns", "pod", "uid", "boot", 9, "v2").last(true).build();
    assertThat(JSON.readValue(JSON.writeValueAsBytes(leaving), UsageReport.class).last()).isTrue();
    UsageReport older =
        JSON.readValue(
            "{\"namespace\":\"ns\",\"podUid\":\"uid\",\"bootId\":\"b\",\"sequence\":1,\"lines\":[]}",
            UsageReport.class);
    assertThat(older.last()).isFalse();
    assertThat(older.targets()).isEmpty();
    assertThat(older.callers()).isEmpty();
  }

  @Test
  void theIntervalTheOperatorAsksForIsOptionalOnTheWire() throws Exception {
    assertThat(
            JSON.readValue(
                    "{\"acknowledgedSequence\":3,\"configVersion\":\"v1\",\"budgets\":[]}",
                    ReportReply.class)
                .reportIntervalMillis())
        .isNull();
    ReportReply slower = new ReportReply(4, "v1", List.of(), List.of(), 8000L);
    assertThat(JSON.readValue(JSON.writeValueAsBytes(slower), ReportReply.class)).isEqualTo(slower);
  }

  @Test
  void theConfigurationHashIsOptionalOnTheWire() throws Exception {
    assertThat(
            JSON.readValue(
                    "{\"acknowledgedSequence\":3,\"configVersion\":\"v1\",\"budgets\":[]}",
                    ReportReply.class)
                .configSha256())
        .isNull();
    ReportReply announced = new ReportReply(5, "v1", List.of(), List.of(), null, "ab".repeat(32));
    assertThat(JSON.readValue(JSON.writeValueAsBytes(announced), ReportReply.class))
        .isEqualTo(announced);
  }
}
