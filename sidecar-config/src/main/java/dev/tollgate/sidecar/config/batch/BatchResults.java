package dev.tollgate.sidecar.config.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ModelPrice;
import dev.tollgate.sidecar.config.Price;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Prices the results of a provider batch, one item a JSONL line, at batch prices; the format is the
 * batch's API ({@link UsageReport.AdmittedBatch#api()}):
 *
 * <ul>
 *   <li>Anthropic Message Batches ({@code .../results}): each {@code succeeded} item's {@code
 *       message.usage} at its model's batch price; errored, canceled and expired items cost
 *       nothing, as Anthropic bills them.
 *   <li>OpenAI Batch (the output file, {@code GET /v1/files/{output_file_id}/content}): each line
 *       whose {@code response.status_code} is 200 is priced from {@code response.body.usage} and
 *       {@code .model}: {@code prompt_tokens} less {@code prompt_tokens_details.cached_tokens} at
 *       the input price, the cached tokens at the cached-input price, {@code completion_tokens} at
 *       the output price (a {@code /v1/responses} body's {@code input_tokens}, {@code
 *       output_tokens} and {@code input_tokens_details.cached_tokens} alike; an embedding has no
 *       output). Lines with another status or an {@code error} ({@code batch_expired}, {@code
 *       batch_cancelled}) cost nothing; {@link #countFailed} counts the error file's lines.
 * </ul>
 *
 * <p>Read line by line with a bound on each line, so a large or hostile result file is never held
 * whole: a line longer than {@link #MAX_LINE_CHARS}, or one that does not parse, is counted as
 * unreadable, not priced.
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
      Map<String, ModelTotals> byModel) {
    /** Nothing: a batch that ended without results (an OpenAI batch that {@code failed}). */
    public static final Summary NONE = new Summary(0, 0, 0, 0, BigDecimal.ZERO, Map.of());

    /** This summary with {@code failed} more failed items and {@code unreadable} more lines. */
    public Summary plusFailed(int moreFailed, int moreUnreadable) {
      return new Summary(
          succeeded, failed + moreFailed, unpriced, unreadable + moreUnreadable, costUsd, byModel);
    }
  }

  /** One result line, read. */
  private sealed interface Item {}

  private record Succeeded(String model, long in, long out, long read, long write)
      implements Item {}

  private record Failed() implements Item {}

  private record Unreadable() implements Item {}

  private static final Item FAILED = new Failed();
  private static final Item UNREADABLE = new Unreadable();

  private BatchResults() {}

  /** Prices an Anthropic Message Batch's results. */
  public static Summary price(Reader jsonl, CredentialConfig credential, PriceCatalogue prices)
      throws IOException {
    return price(UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES, jsonl, credential, prices);
  }

  /**
   * Prices the results of a batch of {@code api} ({@link
   * UsageReport.AdmittedBatch#ANTHROPIC_MESSAGES} or {@link
   * UsageReport.AdmittedBatch#OPENAI_BATCH}).
   *
   * @throws IllegalArgumentException for another api
   */
  public static Summary price(
      String api, Reader jsonl, CredentialConfig credential, PriceCatalogue prices)
      throws IOException {
    Function<JsonNode, Item> format;
    if (UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES.equals(api)) {
      format = BatchResults::anthropic;
    } else if (UsageReport.AdmittedBatch.OPENAI_BATCH.equals(api)) {
      format = BatchResults::openAi;
    } else {
      throw new IllegalArgumentException("no results format for batch api " + api);
    }
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
      JsonNode node = parseOrNull(line);
      Item item = node == null || !node.isObject() ? UNREADABLE : format.apply(node);
      if (item instanceof Failed) {
        failed++;
        continue;
      }
      if (!(item instanceof Succeeded s)
          || s.in() < 0
          || s.out() < 0
          || s.read() < 0
          || s.write() < 0
          || s.model().isEmpty()
          || s.model().length() > 200) {
        unreadable++;
        continue;
      }
      succeeded++;
      if (!byModel.containsKey(s.model()) && byModel.size() >= MAX_MODELS) {
        unpriced++;
        continue;
      }
      Optional<Price> price = prices.resolve(credential, s.model());
      BigDecimal usd = null;
      if (price.isEmpty()) {
        unpriced++;
      } else {
        ModelPrice p = price.get().rates(s.in() + s.read() + s.write(), true);
        usd = p.costUsd(s.in(), s.out(), s.read(), s.write(), credential.markupPercent());
        cost = cost.add(usd);
      }
      ModelTotals before =
          byModel.getOrDefault(
              s.model(), new ModelTotals(0, 0, 0, 0, 0, price.isEmpty() ? null : BigDecimal.ZERO));
      byModel.put(s.model(), before.plus(s.in(), s.out(), s.read(), s.write(), usd));
    }
    return new Summary(succeeded, failed, unpriced, unreadable, cost, Map.copyOf(byModel));
  }

  /**
   * Counts the lines of an OpenAI batch's error file (requests that failed: not billed). Returns a
   * summary with only {@code failed} (JSON object lines) and {@code unreadable} (the rest) set.
   */
  public static Summary countFailed(Reader jsonl) throws IOException {
    int failed = 0;
    int unreadable = 0;
    BoundedLines lines = new BoundedLines(jsonl, MAX_LINE_CHARS);
    String line;
    while ((line = lines.next()) != null) {
      if (line == BoundedLines.TOO_LONG) {
        unreadable++;
      } else if (!line.isBlank()) {
        JsonNode node = parseOrNull(line);
        if (node != null && node.isObject()) {
          failed++;
        } else {
          unreadable++;
        }
      }
    }
    return Summary.NONE.plusFailed(failed, unreadable);
  }

  /** {@code {"custom_id", "result": {"type": "succeeded", "message": {"model", "usage"}}}}. */
  private static Item anthropic(JsonNode item) {
    JsonNode result = item.get("result");
    if (result == null || !result.isObject()) {
      return UNREADABLE;
    }
    if (!"succeeded".equals(result.path("type").asText())) {
      return FAILED;
    }
    JsonNode message = result.path("message");
    JsonNode u = message.get("usage");
    if (u == null || !u.isObject()) {
      return UNREADABLE;
    }
    return new Succeeded(
        message.path("model").asText(""),
        count(u, "input_tokens"),
        count(u, "output_tokens"),
        count(u, "cache_read_input_tokens"),
        count(u, "cache_creation_input_tokens"));
  }

  /**
   * {@code {"id", "custom_id", "response": {"status_code", "request_id", "body": {"model",
   * "usage"}}, "error"}}: OpenAI's "request output object".
   */
  private static Item openAi(JsonNode item) {
    JsonNode error = item.get("error");
    JsonNode response = item.get("response");
    if (response == null || response.isNull()) {
      // a request that never ran (batch_expired, batch_cancelled, request_timeout)
      return error != null && error.isObject() ? FAILED : UNREADABLE;
    }
    JsonNode status = response.get("status_code");
    if (!response.isObject() || status == null || !status.isIntegralNumber()) {
      return UNREADABLE;
    }
    if (status.asInt() != 200 || (error != null && !error.isNull())) {
      return FAILED;
    }
    JsonNode body = response.path("body");
    JsonNode u = body.get("usage");
    if (u == null || !u.isObject()) {
      return UNREADABLE;
    }
    boolean responses = !u.has("prompt_tokens") && u.has("input_tokens");
    long prompt = count(u, responses ? "input_tokens" : "prompt_tokens");
    long completion = count(u, responses ? "output_tokens" : "completion_tokens");
    long cached =
        count(
            u.path(responses ? "input_tokens_details" : "prompt_tokens_details"), "cached_tokens");
    if (prompt < 0 || cached < 0) {
      return UNREADABLE;
    }
    // prompt_tokens includes the cached ones; as the sidecar reads a call's usage (OpenAiWire)
    return new Succeeded(
        body.path("model").asText(""), Math.max(0, prompt - cached), completion, cached, 0);
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
    JsonNode v = node == null || node.isMissingNode() ? null : node.get(field);
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
