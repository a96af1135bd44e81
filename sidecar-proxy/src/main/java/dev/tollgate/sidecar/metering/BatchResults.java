package dev.tollgate.sidecar.metering;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.wire.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prices the results of an Anthropic Message Batch (the JSONL of {@code .../results}, one item a
 * line) at batch prices: each {@code succeeded} item's usage at its model's batch price; errored,
 * canceled and expired items cost nothing, as Anthropic bills them. Read line by line, so a large
 * result file is never held whole; a line longer than {@link #MAX_LINE_CHARS} or that does not
 * parse is counted as unreadable, not priced.
 *
 * <p>This is the pricing step of batch metering; who reads the results once, and reports them
 * exactly once, is not built yet (sidecar-proxy README, Anthropic Message Batches).
 */
public final class BatchResults {
  static final int MAX_LINE_CHARS = 4 * 1024 * 1024;

  /**
   * What a batch's results add up to.
   *
   * @param costUsd exact cost of the priced items
   * @param byModel cost per model of the priced items
   */
  public record Summary(
      int succeeded,
      int failed,
      int unpriced,
      int unreadable,
      Usage usage,
      BigDecimal costUsd,
      Map<String, BigDecimal> byModel) {}

  private BatchResults() {}

  public static Summary price(Reader jsonl, CredentialConfig credential, CostCalculator costs)
      throws IOException {
    int succeeded = 0;
    int failed = 0;
    int unpriced = 0;
    int unreadable = 0;
    long in = 0;
    long out = 0;
    long read = 0;
    long write = 0;
    BigDecimal cost = BigDecimal.ZERO;
    Map<String, BigDecimal> byModel = new TreeMap<>();
    BufferedReader lines = new BufferedReader(jsonl);
    String line;
    while ((line = lines.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode item = line.length() > MAX_LINE_CHARS ? null : Json.parseOrNull(line);
      JsonNode result = item == null ? null : item.get("result");
      if (result == null || !result.isObject()) {
        unreadable++;
        continue;
      }
      if (!"succeeded".equals(result.path("type").asText())) {
        failed++;
        continue;
      }
      JsonNode message = result.path("message");
      Usage u = AnthropicWire.readUsage(message.get("usage"));
      String model = message.path("model").asText("");
      if (u == null || model.isEmpty()) {
        unreadable++;
        continue;
      }
      succeeded++;
      in += u.inputTokens();
      out += u.outputTokens();
      read += u.cacheReadTokens();
      write += u.cacheWriteTokens();
      Cost c = costs.cost(credential, model, u, true);
      if (!c.priced()) {
        unpriced++;
        continue;
      }
      cost = cost.add(c.usd());
      byModel.merge(model, c.usd(), BigDecimal::add);
    }
    return new Summary(
        succeeded,
        failed,
        unpriced,
        unreadable,
        new Usage(in, out, read, write),
        cost,
        Map.copyOf(byModel));
  }
}
