package dev.tollgate.sidecar.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.sidecar.config.BudgetConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CallerQuotasTest {
  private static final BigDecimal LIMIT = new BigDecimal("1.00");
  private static final CallerQuotas.Caller ALICE = new CallerQuotas.Caller("b", "alice", LIMIT);
  private static final CallerQuotas.Caller BOB = new CallerQuotas.Caller("b", "bob", LIMIT);

  private final CallerQuotas quotas = new CallerQuotas();
  private final AtomicInteger nudges = new AtomicInteger();

  CallerQuotasTest() {
    quotas.onCrossed(nudges::incrementAndGet);
  }

  private static ReportReply reply(List<String> blocked, ReportReply.CallerTotal... totals) {
    return new ReportReply(
        1,
        null,
        List.of(
            new ReportReply.BudgetState("b", "Ok", "Block", "100", "0", blocked, List.of(totals))));
  }

  @Test
  void callerIsTakenFromTheBudgetsHeaderOnlyWhenTheBudgetHasAQuota() {
    SidecarConfig cfg =
        new SidecarConfig(
            "v1",
            "ns",
            null,
            List.of(),
            List.of(),
            List.of(
                new BudgetConfig(
                    "b",
                    BigDecimal.TEN,
                    null,
                    null,
                    null,
                    null,
                    null,
                    new BudgetConfig.CallerQuota("x-user", LIMIT, false)),
                new BudgetConfig("plain", BigDecimal.TEN, null, null, null, null, null, null)));
    Map<String, String> headers = Map.of("x-user", "alice");
    assertThat(CallerQuotas.callerOf(cfg, "b", headers::get)).isEqualTo(ALICE);
    assertThat(CallerQuotas.callerOf(cfg, "b", headers::get).period())
        .isEqualTo(BudgetConfig.Period.MONTHLY);
    assertThat(CallerQuotas.callerOf(cfg, "plain", headers::get)).isNull();
    assertThat(CallerQuotas.callerOf(cfg, null, headers::get)).isNull();
    assertThat(CallerQuotas.callerOf(cfg, "b", Map.<String, String>of()::get)).isNull();
  }

  @Test
  void aCallerIsRefusedOnceItsLocallyKnownSpendReachesTheQuota() {
    quotas.record(ALICE, new BigDecimal("0.60"));
    quotas.admit(ALICE, "ns", "chat");
    quotas.record(ALICE, new BigDecimal("0.40"));
    assertThat(nudges).hasValue(1); // crossing the limit asks for a report at once
    assertThatThrownBy(() -> quotas.admit(ALICE, "ns", "chat"))
        .isInstanceOfSatisfying(
            ProxyException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(ErrorKind.BUDGET_EXCEEDED);
              assertThat(e.status()).isEqualTo(429);
              assertThat(e.getMessage()).contains("caller alice", "quota of 1.00 USD", "budget b");
            });
    assertThatCode(() -> quotas.admit(BOB, "ns", "chat")).doesNotThrowAnyException();
    assertThatCode(() -> quotas.admit(null, "ns", "chat")).doesNotThrowAnyException();
  }

  @Test
  void spendStaysCountedWhileItsReportIsUnacknowledgedAndIsReplacedByTheOperatorsTotal() {
    quotas.record(ALICE, new BigDecimal("0.70"));
    List<UsageReport.CallerSpend> report = quotas.drain();
    assertThat(report).containsExactly(new UsageReport.CallerSpend("b", "alice", 1, "0.70"));
    quotas.record(ALICE, new BigDecimal("0.20"));
    // 0.70 in the unacknowledged report + 0.20 since: still under
    quotas.admit(ALICE, "ns", "chat");
    quotas.record(ALICE, new BigDecimal("0.10"));
    assertThatThrownBy(() -> quotas.admit(ALICE, "ns", "chat")).isInstanceOf(ProxyException.class);

    // the reply says other sidecars spent less on alice than we feared: 0.75 including the report
    quotas.update(reply(List.of(), new ReportReply.CallerTotal("alice", "0.75")));
    // 0.75 known + 0.30 since the report: over
    assertThatThrownBy(() -> quotas.admit(ALICE, "ns", "chat")).isInstanceOf(ProxyException.class);
    List<UsageReport.CallerSpend> next = quotas.drain();
    assertThat(next).containsExactly(new UsageReport.CallerSpend("b", "alice", 2, "0.30"));
    quotas.update(reply(List.of(), new ReportReply.CallerTotal("alice", "0.90")));
    quotas.admit(ALICE, "ns", "chat");
  }

  @Test
  void aKnownTotalIsKeptWhileTheCallerIsQuietAndForgottenInTheNextPeriod() {
    java.util.concurrent.atomic.AtomicReference<java.time.Instant> now =
        new java.util.concurrent.atomic.AtomicReference<>(
            java.time.Instant.parse("2026-03-31T23:00:00Z"));
    CallerQuotas q =
        new CallerQuotas(
            new java.time.Clock() {
              @Override
              public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
              }

              @Override
              public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
              }

              @Override
              public java.time.Instant instant() {
                return now.get();
              }
            });
    q.record(ALICE, new BigDecimal("0.10"));
    q.drain();
    q.update(reply(List.of(), new ReportReply.CallerTotal("alice", "0.95")));
    // a report without alice: what the operator said about her still holds this period
    q.drain();
    q.update(reply(List.of()));
    q.record(ALICE, new BigDecimal("0.05"));
    assertThatThrownBy(() -> q.admit(ALICE, "ns", "chat")).isInstanceOf(ProxyException.class);
    // a new month: last month's total no longer counts
    now.set(java.time.Instant.parse("2026-04-01T00:00:01Z"));
    q.admit(ALICE, "ns", "chat");
  }

  @Test
  void periodsStartAtUtcMidnightMondaysAndFirsts() {
    java.time.Instant t = java.time.Instant.parse("2026-03-19T15:30:00Z"); // a Thursday
    assertThat(CallerQuotas.periodStart(BudgetConfig.Period.DAILY, t))
        .isEqualTo("2026-03-19T00:00:00Z");
    assertThat(CallerQuotas.periodStart(BudgetConfig.Period.WEEKLY, t))
        .isEqualTo("2026-03-16T00:00:00Z");
    assertThat(CallerQuotas.periodStart(BudgetConfig.Period.MONTHLY, t))
        .isEqualTo("2026-03-01T00:00:00Z");
  }

  @Test
  void aCallerTheOperatorListsIsRefusedAtOnce() {
    quotas.update(reply(List.of("bob")));
    assertThatThrownBy(() -> quotas.admit(BOB, "ns", "chat")).isInstanceOf(ProxyException.class);
    quotas.admit(ALICE, "ns", "chat");
    assertThat(nudges).hasValue(0); // the operator knows already
    quotas.update(reply(List.of()));
    quotas.admit(BOB, "ns", "chat");
  }

  @Test
  void aReportCarriesTheBiggestCallersPerBudgetAndSumsTheRestIntoOther() {
    int n = UsageReport.CallerSpend.MAX_PER_BUDGET + 5;
    for (int i = 0; i < n; i++) {
      quotas.record(
          new CallerQuotas.Caller("b", "user-" + i, LIMIT), new BigDecimal(i).movePointLeft(4));
    }
    quotas.record(new CallerQuotas.Caller("c", "carol", LIMIT), new BigDecimal("0.5"));
    List<UsageReport.CallerSpend> report = quotas.drain();
    List<UsageReport.CallerSpend> ofB =
        report.stream().filter(c -> c.budget().equals("b")).toList();
    assertThat(ofB).hasSize(UsageReport.CallerSpend.MAX_PER_BUDGET + 1);
    assertThat(ofB.get(0).caller()).isEqualTo("user-" + (n - 1));
    // users 0..4 are the smallest: 0 + 1 + 2 + 3 + 4 ten-thousandths
    assertThat(ofB.get(ofB.size() - 1))
        .isEqualTo(new UsageReport.CallerSpend("b", UsageReport.CallerSpend.OTHER, 5, "0.0010"));
    assertThat(report).contains(new UsageReport.CallerSpend("c", "carol", 1, "0.5"));
    assertThat(quotas.drain()).isEmpty();
  }

  @Test
  void newCallersBeyondTheTrackingCapGoIntoOtherAndAreNeverLimited() {
    for (int i = 0; i < CallerQuotas.MAX_TRACKED; i++) {
      quotas.record(new CallerQuotas.Caller("b", "user-" + i, LIMIT), BigDecimal.ZERO);
    }
    CallerQuotas.Caller late = new CallerQuotas.Caller("b", "late", LIMIT);
    quotas.record(late, new BigDecimal("5"));
    quotas.admit(late, "ns", "chat");
    assertThat(quotas.drain())
        .filteredOn(c -> c.caller().equals(UsageReport.CallerSpend.OTHER))
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.costUsd()).isEqualTo("5");
              assertThat(o.requests())
                  .isEqualTo(CallerQuotas.MAX_TRACKED - UsageReport.CallerSpend.MAX_PER_BUDGET + 1);
            });
  }
}
