package dev.tollgate.operator.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the report endpoint only while this replica holds the leader Lease, so that one replica
 * writes the spend ledgers and status (the controllers run on the leader only too). The standby's
 * report port refuses connections until it leads: a sidecar whose report fails there resends it on
 * a new connection, which the Service spreads over the replicas, so it reaches the leader. (A
 * Service cannot take one port of a pod out of its endpoints, and making the standby unready would
 * stall rolling updates, so the port is simply closed.)
 */
public final class LeaderOnlyReports implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderOnlyReports.class);

  /** Starts the channel; called when this replica becomes the leader. */
  @FunctionalInterface
  public interface Starter {
    ReportChannel start() throws IOException;
  }

  private final Starter starter;
  private ReportChannel channel;

  public LeaderOnlyReports(Starter starter) {
    this.starter = starter;
  }

  /** This replica leads: serve reports. */
  public synchronized void startLeading() {
    if (channel != null) {
      return;
    }
    try {
      channel = starter.start();
      LOG.info("leading: report endpoint started on port {}", channel.port());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "the leader could not start the report endpoint (is TOLLGATE_REPORT_PORT free?)", e);
    }
  }

  /** This replica no longer leads (or stops): close the report endpoint. */
  public synchronized void stopLeading() {
    if (channel != null) {
      channel.close();
      channel = null;
      LOG.info("not leading: report endpoint closed");
    }
  }

  /** The channel while leading. */
  public synchronized Optional<ReportChannel> channel() {
    return Optional.ofNullable(channel);
  }

  @Override
  public void close() {
    stopLeading();
  }
}
