package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an OpenAI batch input file is estimated to cost ({@link OpenAiBatchLines}): USD per budget
 * at batch prices, the lines without a price, the line count, and the routes the lines named.
 */
public record OpenAiBatchEstimate(
    Map<String, BigDecimal> estimates,
    int unpricedItems,
    int items,
    List<UsageReport.BatchRoute> routes) {

  /** What the next usage report tells the operator of the batch the provider took as {@code id}. */
  UsageReport.AdmittedBatch admitted(String id, String credential) {
    Map<String, String> usd = new TreeMap<>();
    estimates.forEach((budget, e) -> usd.put(budget, e.toPlainString()));
    return new UsageReport.AdmittedBatch(
        id, credential, UsageReport.AdmittedBatch.OPENAI_BATCH, items, usd, routes);
  }
}
