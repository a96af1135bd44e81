package dev.tollgate.sidecar.config.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ModelPrice;
import dev.tollgate.sidecar.config.Price;
import dev.tollgate.sidecar.config.PriceCatalogue;
import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Prices the results of an Anthropic Message Batch (the JSONL of {@code .../results}, one item a
 * line) at batch prices: each {@code succeeded} item's usage at its model's batch price; errored,
 * canceled and expired items cost nothing, as Anthropic bills them. Read line by line with a bound
 * on each line, so a large or hostile result file is never held whole: a line longer than {@link
 * #MAX_LINE_CHARS}, or one that does not parse, is counted as unreadable, not priced.
 *
 * <p>The operator's batch meter reads every ended batch's results through this once and applies the
 * spend exactly once (operator README, "Batch metering").
 */
public final class BatchResults {
  public static final int MAX_LINE_CHARS = 4 * 1024 * 1024;

  /** At most this many distinct models are itemised; items of further models are unpriced. */
  public static final int MAX_MODELS = 64;

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The succeeded items of one model.
   *
   * @param costUsd exact cost at batch prices, or null when the model has no price
   */
  public record ModelTotals(
      long items,
      long inputTokens,
      long outputTokens,
      long cacheReadTokens,
      long cacheWriteTokens,
      BigDecimal costUsd) {
    ModelTotals plus(long in, long out, long read, long write, BigDecimal usd) {
      return new ModelTotals(
          items + 1,
          inputTokens + in,
          outputTokens + out,
          cacheReadTokens + read,
          cacheWriteTokens + write,
          costUsd == null || usd == null ? null : costUsd.add(usd));
    }
  }

  /**
   * What a batch's results add up to.
   *
   * @param failed errored, canceled and expired items (not billed)
   * @param unpriced succeeded items whose model has no price (counted, never priced as 0)
   * @param unreadable lines that are not a result item with usage
   * @param costUsd exact cost of the priced items
   * @param byModel the succeeded items per model
   */
  public record Summary(
      int succeeded,
      int failed,
      int unpriced,
      int unreadable,
      BigDecimal costUsd,
      Map<String, ModelTotals> byModel) {}

  private BatchResults() {}

  public static Summary price(Reader jsonl, CredentialConfig credential, PriceCatalogue prices)
      throws IOException {
    int succeeded = 0;
    int failed = 0;
    int unpriced = 0;
    int unreadable = 0;
    BigDecimal cost = BigDecimal.ZERO;
    Map<String, ModelTotals> byModel = new TreeMap<>();
    BoundedLines lines = new BoundedLines(jsonl, MAX_LINE_CHARS);
    String line;
    while ((line = lines.next()) != null) {
      if (line == BoundedLines.TOO_LONG) {
        unreadable++;
        continue;
      }
      if (line.isBlank()) {
        continue;
      }
      JsonNode item = parseOrNull(line);
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
      JsonNode u = message.get("usage");
      String model = message.path("model").asText("");
      long in = count(u, "input_tokens");
      long out = count(u, "output_tokens");
      long read = count(u, "cache_read_input_tokens");
      long write = count(u, "cache_creation_input_tokens");
      if (u == null || !u.isObject() || in < 0 || out < 0 || read < 0 || write < 0) {
        unreadable++;
        continue;
      }
      if (model.isEmpty() || model.length() > 200) {
        unreadable++;
        continue;
      }
      succeeded++;
      if (!byModel.containsKey(model) && byModel.size() >= MAX_MODELS) {
        unpriced++;
        continue;
      }
      Optional<Price> price = prices.resolve(credential, model);
      BigDecimal usd = null;
      if (price.isEmpty()) {
        unpriced++;
      } else {
        ModelPrice p = price.get().rates(in + read + write, true);
        usd = p.costUsd(in, out, read, write, credential.markupPercent());
        cost = cost.add(usd);
      }
      ModelTotals before =
          byModel.getOrDefault(
              model, new ModelTotals(0, 0, 0, 0, 0, price.isEmpty() ? null : BigDecimal.ZERO));
      byModel.put(model, before.plus(in, out, read, write, usd));
    }
    return new Summary(succeeded, failed, unpriced, unreadable, cost, Map.copyOf(byModel));
  }

  private static JsonNode parseOrNull(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      return null;
    }
  }

  /** A non-negative whole-number field; 0 when absent or null, -1 when anything else. */
  private static long count(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    if (v == null || v.isNull()) {
      return 0;
    }
    return v.isIntegralNumber() && v.canConvertToLong() && v.asLong() >= 0 ? v.asLong() : -1;
  }

  /** Lines of a reader, none held beyond a bound: a longer line is skipped to its end. */
  private static final class BoundedLines {
    static final String TOO_LONG = new String("<too long>");
    private final Reader in;
    private final int max;
    private final char[] buf = new char[8192];
    private int pos;
    private int len;

    BoundedLines(Reader in, int max) {
      this.in = in;
      this.max = max;
    }

    String next() throws IOException {
      StringBuilder line = new StringBuilder();
      boolean tooLong = false;
      boolean any = false;
      while (true) {
        if (pos == len) {
          len = in.read(buf);
          pos = 0;
          if (len <= 0) {
            len = 0;
            return any ? (tooLong ? TOO_LONG : line.toString()) : null;
          }
        }
        any = true;
        char c = buf[pos++];
        if (c == '\n') {
          return tooLong ? TOO_LONG : line.toString();
        }
        if (!tooLong) {
          if (line.length() >= max) {
            tooLong = true;
            line.setLength(0);
          } else if (c != '\r') {
            line.append(c);
          }
        }
      }
    }
  }
}
