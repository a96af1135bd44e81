package dev.tollgate.sidecar.metering;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provider batches this sidecar submitted and the provider accepted, waiting for the next usage
 * report: the reporter drains them into it (and so into the spool, which survives a restart), and
 * the operator meters each batch once it ends. Bounded: beyond {@link #MAX_WAITING} a batch is not
 * kept, which is logged as an error (its spend would not be metered); an honest sidecar reports
 * every two seconds and submits nowhere near that many batches in between.
 */
public final class AdmittedBatches {
  private static final Logger LOG = LoggerFactory.getLogger(AdmittedBatches.class);

  /** Batches kept until the next report. */
  public static final int MAX_WAITING = 1_000;

  /** Batches one report carries (the operator's validator accepts at most this many). */
  public static final int MAX_PER_REPORT = 100;

  private final ArrayDeque<UsageReport.AdmittedBatch> waiting = new ArrayDeque<>();

  /** The provider accepted {@code batch}. */
  public synchronized void admitted(UsageReport.AdmittedBatch batch) {
    if (waiting.size() >= MAX_WAITING) {
      LOG.error(
          "batch {} is not reported to the operator: {} batches already wait for the next report;"
              + " its spend will not be metered",
          batch.id(),
          MAX_WAITING);
      return;
    }
    waiting.add(batch);
  }

  /** Takes up to {@link #MAX_PER_REPORT} batches for a report, oldest first. */
  public synchronized List<UsageReport.AdmittedBatch> drain() {
    List<UsageReport.AdmittedBatch> out = new ArrayList<>();
    while (out.size() < MAX_PER_REPORT && !waiting.isEmpty()) {
      out.add(waiting.poll());
    }
    return out;
  }
}
