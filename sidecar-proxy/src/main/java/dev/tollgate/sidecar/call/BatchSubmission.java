package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ModelPrice;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An Anthropic Message Batch ({@code POST /v1/messages/batches}) on its way to the provider: each
 * item's {@code params.model} that names a route of the namespace is replaced by that route's
 * target on the batch's credential (a batch runs at one provider and cannot fail over, so the first
 * target of the first tier that uses this credential is taken), and the batch's cost is estimated
 * at batch prices (input ≈ the item's characters / 4, output = its {@code max_tokens}), per budget
 * of the routes named, for admission before it is sent.
 *
 * @param body the request as it goes to the provider
 * @param estimates estimated USD per budget name of the routes the items named
 * @param unpricedItems items whose model has no price (not in the estimate)
 * @param items how many items the batch holds
 * @param routes the routes the items named (at most {@link UsageReport.AdmittedBatch#MAX_ROUTES}),
 *     with the model each resolved to and its budget: the operator attributes results by them
 */
public record BatchSubmission(
    byte[] body,
    Map<String, BigDecimal> estimates,
    int unpricedItems,
    int items,
    List<UsageReport.BatchRoute> routes) {
  private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

  /** Resolves and estimates {@code raw}; a 400 in the caller's format when it cannot. */
  public static BatchSubmission prepare(
      SidecarConfig cfg, CredentialConfig credential, byte[] raw, PriceCatalogue prices) {
    JsonNode root = Json.parseOrNull(raw);
    if (root == null || !root.isObject() || !root.path("requests").isArray()) {
      throw invalid("a message batch is a JSON object with a \"requests\" array");
    }
    Map<String, BigDecimal> estimates = new TreeMap<>();
    Map<String, UsageReport.BatchRoute> routes = new LinkedHashMap<>();
    int unpriced = 0;
    int i = 0;
    for (JsonNode item : root.get("requests")) {
      JsonNode params = item.path("params");
      if (!params.isObject() || !params.path("model").isTextual()) {
        throw invalid("requests[" + i + "].params.model is required");
      }
      String asked = params.get("model").asText();
      Optional<RouteConfig> route = cfg.route(asked);
      String model = asked;
      if (route.isPresent()) {
        model =
            targetOn(route.get(), credential.name())
                .orElseThrow(
                    () ->
                        invalid(
                            "requests["
                                + asked
                                + "]: route '"
                                + asked
                                + "' has no target on credential '"
                                + credential.name()
                                + "'; a batch runs at one provider and cannot fail over, so"
                                + " its items must name routes with a target there"));
        ((ObjectNode) params).put("model", model);
        if (routes.size() < UsageReport.AdmittedBatch.MAX_ROUTES) {
          routes.putIfAbsent(asked, new UsageReport.BatchRoute(asked, model, route.get().budget()));
        }
      }
      long inputEstimate = Math.max(1, params.toString().length() / 4);
      long maxTokens = Math.max(0, params.path("max_tokens").asLong(0));
      Optional<Price> price = prices.resolve(credential, model);
      if (price.isEmpty()) {
        unpriced++;
      } else if (route.isPresent() && route.get().budget() != null) {
        estimates.merge(
            route.get().budget(),
            batchUsd(credential, price.get(), inputEstimate, maxTokens),
            BigDecimal::add);
      }
      i++;
    }
    return new BatchSubmission(
        root.toString().getBytes(StandardCharsets.UTF_8),
        Map.copyOf(estimates),
        unpriced,
        i,
        List.copyOf(routes.values()));
  }

  /**
   * What the next usage report tells the operator of this batch, which the provider took as {@code
   * id}.
   */
  public UsageReport.AdmittedBatch admitted(String id, String credential) {
    Map<String, String> usd = new TreeMap<>();
    estimates.forEach((budget, e) -> usd.put(budget, e.toPlainString()));
    return new UsageReport.AdmittedBatch(
        id, credential, UsageReport.AdmittedBatch.ANTHROPIC_MESSAGES, items, usd, routes);
  }

  /**
   * The estimated USD of one batch item: {@code input} and {@code output} tokens at the model's
   * batch price, plus the credential's markup.
   */
  static BigDecimal batchUsd(CredentialConfig credential, Price price, long input, long output) {
    ModelPrice p = price.rates(input, true);
    BigDecimal usd =
        p.input()
            .multiply(BigDecimal.valueOf(input))
            .add(p.output().multiply(BigDecimal.valueOf(output)))
            .divide(MILLION);
    BigDecimal markup = credential.markupPercent();
    if (markup.signum() != 0) {
      usd = usd.add(usd.multiply(markup).divide(BigDecimal.valueOf(100)));
    }
    return usd;
  }

  /** The model the first target on {@code credential} of {@code route}'s tiers names. */
  static Optional<String> targetOn(RouteConfig route, String credential) {
    return route.tiers().stream()
        .flatMap(t -> t.targets().stream())
        .filter(t -> credential.equals(t.credential()))
        .map(RouteConfig.Target::model)
        .findFirst();
  }

  private static ProxyException invalid(String message) {
    return new ProxyException(ErrorKind.INVALID_REQUEST, message);
  }
}
