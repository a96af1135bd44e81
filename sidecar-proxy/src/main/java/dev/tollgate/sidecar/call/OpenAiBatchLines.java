package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.Price;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The lines of an OpenAI batch input file ({@code {"custom_id","method","url","body"}}, one request
 * each), read one by one: each line's {@code body.model} that names a route is replaced by that
 * route's target on the file's credential (the first in tier order: a batch runs at one provider
 * and cannot fail over, so a route without a target there is refused with a 400 naming the line),
 * and the line is estimated at batch prices, per budget: input ≈ the body's characters / 4, output
 * = its {@code max_completion_tokens}, {@code max_tokens} or {@code max_output_tokens}, else
 * {@value #DEFAULT_MAX_OUTPUT_TOKENS} ({@code /v1/embeddings}: none). A line naming a provider
 * model counts for the first route (by name) with a target of that model on the credential, if any.
 */
final class OpenAiBatchLines {
  /** Output tokens estimated for a line that sets no maximum. */
  static final long DEFAULT_MAX_OUTPUT_TOKENS = 4_096;

  /** Requests one OpenAI batch may hold. */
  static final int MAX_LINES = 50_000;

  private final SidecarConfig cfg;
  private final CredentialConfig credential;
  private final PriceCatalogue prices;
  private final long maxLineBytes;
  private final Map<String, BigDecimal> estimates = new TreeMap<>();
  private final Map<String, UsageReport.BatchRoute> routes = new LinkedHashMap<>();
  private int unpriced;
  private int items;

  OpenAiBatchLines(
      SidecarConfig cfg, CredentialConfig credential, PriceCatalogue prices, long maxLineBytes) {
    this.cfg = cfg;
    this.credential = credential;
    this.prices = prices;
    this.maxLineBytes = maxLineBytes;
  }

  /**
   * Checks, resolves and estimates line {@code number} (1-based) of {@code bytes}[{@code
   * from},{@code to}); the line as it goes to the provider, or null for a blank line. A 400 naming
   * the line when it is not a batch request.
   */
  byte[] line(byte[] bytes, int from, int to, int number) {
    if (to - from > maxLineBytes) {
      throw tooLarge(number, "is larger than the sidecar's limit of " + maxLineBytes + " bytes");
    }
    String text = new String(bytes, from, to - from, StandardCharsets.UTF_8).strip();
    if (text.isEmpty()) {
      return null;
    }
    if (++items > MAX_LINES) {
      throw tooLarge(number, "is past the " + MAX_LINES + " requests a batch may hold");
    }
    JsonNode line = Json.parseOrNull(text.getBytes(StandardCharsets.UTF_8));
    if (line == null || !line.isObject()) {
      throw invalid(number, "is not a JSON object");
    }
    if (!line.path("custom_id").isTextual() || line.get("custom_id").asText().isEmpty()) {
      throw invalid(number, "has no custom_id");
    }
    String url = line.path("url").asText("");
    if (!url.startsWith("/v1/")) {
      throw invalid(number, "has no url of an OpenAI endpoint (e.g. /v1/chat/completions)");
    }
    JsonNode body = line.path("body");
    if (!body.isObject() || !body.path("model").isTextual()) {
      throw invalid(number, "has no body with a model");
    }
    String asked = body.get("model").asText();
    Optional<RouteConfig> route = cfg.route(asked);
    String model = asked;
    if (route.isPresent()) {
      model =
          BatchSubmission.targetOn(route.get(), credential.name())
              .orElseThrow(
                  () ->
                      invalid(
                          number,
                          "names route '"
                              + asked
                              + "', which has no target on credential '"
                              + credential.name()
                              + "'; a batch runs at one provider and cannot fail over, so its"
                              + " lines must name routes with a target there"));
      ((ObjectNode) body).put("model", model);
    } else {
      route = routeTargeting(asked);
    }
    if (route.isPresent() && routes.size() < UsageReport.AdmittedBatch.MAX_ROUTES) {
      routes.putIfAbsent(
          route.get().model(),
          new UsageReport.BatchRoute(route.get().model(), model, route.get().budget()));
    }
    estimate(route, model, body, url);
    return line.toString().getBytes(StandardCharsets.UTF_8);
  }

  private void estimate(Optional<RouteConfig> route, String model, JsonNode body, String url) {
    Optional<Price> price = prices.resolve(credential, model);
    if (price.isEmpty()) {
      unpriced++;
      return;
    }
    if (route.isEmpty() || route.get().budget() == null) {
      return;
    }
    long input = Math.max(1, body.toString().length() / 4);
    long output = url.startsWith("/v1/embeddings") ? 0 : maxOutput(body);
    estimates.merge(
        route.get().budget(),
        BatchSubmission.batchUsd(credential, price.get(), input, output),
        BigDecimal::add);
  }

  private static long maxOutput(JsonNode body) {
    for (String field : new String[] {"max_completion_tokens", "max_tokens", "max_output_tokens"}) {
      if (body.path(field).canConvertToLong()) {
        return Math.max(0, body.get(field).asLong());
      }
    }
    return DEFAULT_MAX_OUTPUT_TOKENS;
  }

  /** The first route (by name) with a target of {@code model} on this credential. */
  private Optional<RouteConfig> routeTargeting(String model) {
    return cfg.routes().stream()
        .sorted(Comparator.comparing(RouteConfig::model))
        .filter(
            r ->
                r.tiers().stream()
                    .flatMap(t -> t.targets().stream())
                    .anyMatch(
                        t -> credential.name().equals(t.credential()) && model.equals(t.model())))
        .findFirst();
  }

  /** What was read so far. */
  OpenAiBatchEstimate estimate() {
    return new OpenAiBatchEstimate(
        Map.copyOf(estimates), unpriced, items, java.util.List.copyOf(routes.values()));
  }

  private static ProxyException tooLarge(int line, String problem) {
    return new ProxyException(
        ErrorKind.TOO_LARGE, "line " + line + " of the batch input file " + problem);
  }

  private static ProxyException invalid(int line, String problem) {
    return new ProxyException(
        ErrorKind.INVALID_REQUEST, "line " + line + " of the batch input file " + problem);
  }
}
