package dev.tollgate.sidecar.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportSpoolTest {
  @TempDir Path dir;

  private static UsageReport report(String uid, String boot, long seq, String cost) {
    return UsageReport.builder("ns", "pod", uid, boot, seq, "v1")
        .lines(
            List.of(
                UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
                    .requests(3)
                    .inputTokens(30)
                    .outputTokens(15)
                    .costUsd(cost)
                    .build()))
        .targets(
            List.of(
                new UsageReport.TargetState(
                    "chat", "main", "openai", "gpt-4o", "Open", 4, 50f, 120, 300, "timeout", null)))
        .build();
  }

  @Test
  void aLaterProcessFindsWhatAnEarlierOneLeftInSequenceOrder() {
    ReportSpool earlier = new ReportSpool(dir.resolve("spool"));
    UsageReport second = report("uid-1", "boot-a", 2, "0.20");
    UsageReport first = report("uid-1", "boot-a", 1, "0.10");
    assertThat(earlier.save(second)).isTrue();
    assertThat(earlier.save(first)).isTrue();

    ReportSpool later = new ReportSpool(dir.resolve("spool"));
    List<UsageReport> left = later.leftovers("boot-b", "uid-1");
    assertThat(left).containsExactly(first, second);
    // nothing of the current boot is a leftover
    assertThat(later.leftovers("boot-a", "uid-1")).isEmpty();
  }

  @Test
  void anAcknowledgedReportIsGoneAndTheDirectoryHoldsNoTemporaryFiles() throws Exception {
    ReportSpool spool = new ReportSpool(dir);
    UsageReport r = report("uid-1", "boot-a", 1, "0.10");
    spool.save(r);
    spool.save(r); // a resend rewrites the same file
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactly("report-boot-a-1.json");
    }
    spool.delete(r);
    assertThat(spool.leftovers("boot-b", "uid-1")).isEmpty();
  }

  @Test
  void anUnreadableFileIsSetAsideNotDeletedAndAnotherPodsReportsAreLeftAlone() throws Exception {
    ReportSpool spool = new ReportSpool(dir);
    Files.writeString(dir.resolve("report-boot-x-1.json"), "{not json");
    spool.save(report("uid-other", "boot-y", 1, "0.10"));
    spool.save(report("uid-1", "boot-z", 7, "0.30"));

    assertThat(spool.leftovers("boot-now", "uid-1"))
        .extracting(UsageReport::bootId, UsageReport::sequence)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("boot-z", 7L));
    assertThat(dir.resolve("report-boot-x-1.json.bad")).exists();
    assertThat(dir.resolve("report-boot-y-1.json")).exists();
  }

  @Test
  void anUnwritableDirectoryIsReportedNotThrown() throws Exception {
    Path file = dir.resolve("a-file");
    Files.writeString(file, "x");
    ReportSpool spool = new ReportSpool(file.resolve("spool"));
    assertThat(spool.save(report("uid-1", "boot-a", 1, "0.10"))).isFalse();
  }
}
