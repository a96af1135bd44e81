package dev.tollgate.sidecar.metering;

import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.wire.ErrorKind;
import java.math.BigDecimal;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Usage accumulated in memory per route, tier, credential and model, for the report the operator
 * will collect (spend and health write-back). Cost is summed exactly.
 */
public final class UsageLedger {
  private final AdmittedBatches batches = new AdmittedBatches();

  /** Provider batches admitted since the last report, which the next report carries. */
  public AdmittedBatches batches() {
    return batches;
  }

  /** What a ledger line is about. */
  public record Key(String route, String tier, String credential, String model) {
    // written out: the generated ones link an invokedynamic call site on first use, which the AOT
    // cache cannot keep, and the first metered call paid for it (issue #24; as UpstreamClient's
    // PoolKey)
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k
          && java.util.Objects.equals(route, k.route)
          && java.util.Objects.equals(tier, k.tier)
          && java.util.Objects.equals(credential, k.credential)
          && java.util.Objects.equals(model, k.model);
    }

    @Override
    public int hashCode() {
      int h = java.util.Objects.hashCode(route);
      h = 31 * h + java.util.Objects.hashCode(tier);
      h = 31 * h + java.util.Objects.hashCode(credential);
      return 31 * h + java.util.Objects.hashCode(model);
    }
  }

  /** Totals of one line; an immutable snapshot. */
  public record Totals(
      long requests,
      long inputTokens,
      long outputTokens,
      long cacheReadTokens,
      long cacheWriteTokens,
      BigDecimal costUsd,
      long unpricedRequests,
      long failovers,
      Map<ErrorKind, Long> errors,
      Map<ErrorKind, Long> failedAttempts,
      long cacheHits,
      long savedInputTokens,
      long savedOutputTokens,
      BigDecimal savedCostUsd,
      Map<String, EndpointTotals> byEndpoint) {}

  /**
   * The calls of one line by endpoint kind ({@code UsageReport.EndpointUsage#KINDS}, a bounded
   * set).
   */
  public record EndpointTotals(
      long requests, long inputTokens, long outputTokens, BigDecimal cost) {
    EndpointTotals plus(EndpointTotals o) {
      return new EndpointTotals(
          requests + o.requests,
          inputTokens + o.inputTokens,
          outputTokens + o.outputTokens,
          cost.add(o.cost));
    }
  }

  private static final class Line {
    long requests;
    long input;
    long output;
    long cacheRead;
    long cacheWrite;
    BigDecimal cost = BigDecimal.ZERO;
    long unpriced;
    long failovers;
    final EnumMap<ErrorKind, Long> errors = new EnumMap<>(ErrorKind.class);
    final EnumMap<ErrorKind, Long> failedAttempts = new EnumMap<>(ErrorKind.class);
    long cacheHits;
    long savedInput;
    long savedOutput;
    BigDecimal savedCost = BigDecimal.ZERO;
    final TreeMap<String, EndpointTotals> byEndpoint = new TreeMap<>();

    synchronized void add(CallRecord r) {
      requests++;
      byEndpoint.merge(
          UsageReport.EndpointUsage.kindOf(r.api()),
          new EndpointTotals(
              1,
              r.usage() == null ? 0 : r.usage().inputTokens(),
              r.usage() == null ? 0 : r.usage().outputTokens(),
              r.cost().priced() ? r.cost().usd() : BigDecimal.ZERO),
          EndpointTotals::plus);
      if (r.usage() != null) {
        input += r.usage().inputTokens();
        output += r.usage().outputTokens();
        cacheRead += r.usage().cacheReadTokens();
        cacheWrite += r.usage().cacheWriteTokens();
      }
      if (r.cost().priced()) {
        cost = cost.add(r.cost().usd());
      } else if (r.usage() != null) {
        unpriced++;
      }
      failovers += r.failovers();
      if (r.errorKind() != null) {
        errors.merge(r.errorKind(), 1L, Long::sum);
      }
    }

    synchronized Totals totals() {
      return new Totals(
          requests,
          input,
          output,
          cacheRead,
          cacheWrite,
          cost,
          unpriced,
          failovers,
          Map.copyOf(errors),
          Map.copyOf(failedAttempts),
          cacheHits,
          savedInput,
          savedOutput,
          savedCost,
          Map.copyOf(byEndpoint));
    }

    synchronized void cacheHit(Usage usage, BigDecimal cost) {
      cacheHits++;
      savedInput += usage.promptTokens();
      savedOutput += usage.outputTokens();
      if (cost != null) {
        savedCost = savedCost.add(cost);
      }
    }

    synchronized void failedAttempt(ErrorKind kind) {
      failedAttempts.merge(kind, 1L, Long::sum);
    }
  }

  private final ConcurrentHashMap<Key, Line> lines = new ConcurrentHashMap<>();
  private final AttributedSpend attributed = new AttributedSpend();
  private volatile java.util.function.Consumer<CallRecord> listener = r -> {};

  public void record(CallRecord r) {
    Key key = new Key(r.route(), r.tier(), r.credential(), r.model());
    lines.computeIfAbsent(key, k -> new Line()).add(r);
    attributed.record(r);
    listener.accept(r);
  }

  /** Spend by end user and feature since the last report (drained by the reporter). */
  public AttributedSpend attributed() {
    return attributed;
  }

  /**
   * Records an attempt on a target that failed before the call moved on to another target or a
   * retry. The call itself is recorded once, where it ended; this keeps the provider's failure
   * visible to health even when the caller never saw it.
   */
  public void recordFailedAttempt(Key key, ErrorKind kind) {
    lines.computeIfAbsent(key, k -> new Line()).failedAttempt(kind);
  }

  /**
   * Records a call answered from the response cache: not a request to the provider (its {@code
   * requests} and spend stay as they are), but a hit that saved the original call's tokens ({@code
   * usage}: input including cached input, output) and cost (null when unpriced).
   */
  public void recordCacheHit(Key key, Usage usage, BigDecimal cost) {
    lines.computeIfAbsent(key, k -> new Line()).cacheHit(usage, cost);
  }

  /** Also tells {@code l} about every recorded call (budget enforcement counts spend this way). */
  public void onRecord(java.util.function.Consumer<CallRecord> l) {
    listener = l;
  }

  /** All lines, sorted for stable output. */
  public Map<Key, Totals> snapshot() {
    Map<Key, Totals> out =
        new TreeMap<>(
            java.util.Comparator.comparing(Key::route)
                .thenComparing(k -> String.valueOf(k.tier()))
                .thenComparing(k -> String.valueOf(k.credential()))
                .thenComparing(k -> String.valueOf(k.model())));
    lines.forEach((k, v) -> out.put(k, v.totals()));
    return out;
  }

  /** Sum over all lines (tests, logs). */
  public Totals total() {
    Line sum = new Line();
    for (Totals t : snapshot().values()) {
      sum.requests += t.requests();
      sum.input += t.inputTokens();
      sum.output += t.outputTokens();
      sum.cacheRead += t.cacheReadTokens();
      sum.cacheWrite += t.cacheWriteTokens();
      sum.cost = sum.cost.add(t.costUsd());
      sum.unpriced += t.unpricedRequests();
      sum.failovers += t.failovers();
      t.errors().forEach((k, v) -> sum.errors.merge(k, v, Long::sum));
      t.failedAttempts().forEach((k, v) -> sum.failedAttempts.merge(k, v, Long::sum));
      sum.cacheHits += t.cacheHits();
      sum.savedInput += t.savedInputTokens();
      sum.savedOutput += t.savedOutputTokens();
      sum.savedCost = sum.savedCost.add(t.savedCostUsd());
      t.byEndpoint().forEach((k, v) -> sum.byEndpoint.merge(k, v, EndpointTotals::plus));
    }
    return sum.totals();
  }
}
