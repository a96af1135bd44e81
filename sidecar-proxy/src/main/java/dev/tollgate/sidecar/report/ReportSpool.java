package dev.tollgate.sidecar.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the reports the operator has not acknowledged yet on disk (the pod's {@code emptyDir}), so
 * that usage survives a restart of the sidecar container: the next process of the same pod finds
 * the report its predecessor left and delivers it under the predecessor's boot id and sequence,
 * which the operator applies exactly once like any resent report.
 *
 * <p>One file per report, {@code report-<boot>-<sequence>.json}, written to a temporary file and
 * moved into place, so a crash mid-write leaves the previous state, never half a report. A file
 * that cannot be read is renamed to {@code .bad} and kept for a human rather than deleted.
 *
 * <p>What is still lost: usage metered after the last report was built (at most one report interval
 * plus one failed delivery attempt, 7 s) when the process dies without running its shutdown
 * (SIGKILL, OOM kill), and the spool itself when the pod is deleted before its final report is
 * delivered (the emptyDir goes with it).
 */
public final class ReportSpool {
  private static final Logger LOG = LoggerFactory.getLogger(ReportSpool.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private static final String PREFIX = "report-";
  private static final String SUFFIX = ".json";

  private final Path dir;
  private volatile boolean broken;

  public ReportSpool(Path dir) {
    this.dir = dir;
  }

  public Path dir() {
    return dir;
  }

  /** Writes {@code report}; false (logged once) when the directory cannot be written. */
  public boolean save(UsageReport report) {
    if (broken) {
      return false;
    }
    try {
      Files.createDirectories(dir);
      Path target = file(report);
      Path tmp = dir.resolve(target.getFileName() + ".tmp");
      Files.write(tmp, JSON.writeValueAsBytes(report));
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      return true;
    } catch (IOException e) {
      broken = true;
      LOG.warn(
          "cannot write the report spool in {} ({}); unacknowledged usage is kept in memory only",
          dir,
          e.toString());
      return false;
    }
  }

  /** Removes {@code report}'s file once the operator acknowledged it. */
  public void delete(UsageReport report) {
    try {
      Files.deleteIfExists(file(report));
    } catch (IOException e) {
      LOG.warn("cannot delete {} ({}); it may be resent once", file(report), e.toString());
    }
  }

  /**
   * Moves {@code report}'s file aside as {@code .refused}: the operator refused it for good (400),
   * and it is kept for a human or an operator that accepts it, never resent by this sidecar.
   */
  public void setAside(UsageReport report) {
    Path f = file(report);
    try {
      if (!Files.exists(f)) {
        save(report);
      }
      Files.move(
          f, f.resolveSibling(f.getFileName() + ".refused"), StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      LOG.warn("cannot set {} aside ({})", f, e.toString());
    }
  }

  /**
   * Reports left by earlier processes of this pod (any boot id but {@code currentBoot}), oldest
   * sequence first per boot. Reports of another pod (a reused directory) are left alone.
   */
  public List<UsageReport> leftovers(String currentBoot, String podUid) {
    List<UsageReport> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
      for (Path f : files) {
        try {
          UsageReport r = JSON.readValue(f.toFile(), UsageReport.class);
          if (r.bootId() == null || r.bootId().equals(currentBoot)) {
            continue;
          }
          if (podUid != null && !podUid.equals(r.podUid())) {
            LOG.warn("{} belongs to pod {}, not this one; leaving it", f, r.podUid());
            continue;
          }
          out.add(r);
        } catch (IOException e) {
          Path bad = f.resolveSibling(f.getFileName() + ".bad");
          LOG.warn("cannot read {} ({}); moved to {}", f, e.getMessage(), bad.getFileName());
          Files.move(f, bad, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      LOG.warn("cannot list the report spool in {} ({})", dir, e.toString());
    }
    out.sort(Comparator.comparing(UsageReport::bootId).thenComparingLong(UsageReport::sequence));
    return out;
  }

  private Path file(UsageReport r) {
    return dir.resolve(PREFIX + r.bootId() + "-" + r.sequence() + SUFFIX);
  }
}
