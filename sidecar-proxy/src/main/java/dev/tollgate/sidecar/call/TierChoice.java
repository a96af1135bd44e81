package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.routing.RequestFacts;
import dev.tollgate.sidecar.routing.TierSelector;
import dev.tollgate.sidecar.routing.WeightedSplit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The tier stage's decisions: whether the classifier is asked, which tier serves, and the tier's
 * targets in the order they are tried.
 */
final class TierChoice {
  private TierChoice() {}

  /** Whether the caller named a declared tier ({@code x-tollgate-tier}): no classifier then. */
  static boolean tierAsked(RouteConfig route, Function<String, String> headers) {
    String asked = headers.apply(TierSelector.TIER_HEADER);
    return asked != null && TierSelector.named(route, asked.trim()).isPresent();
  }

  /**
   * The tier for {@code facts}; when the route's classifier was asked and gave no declared label,
   * its default tier.
   */
  static RouteConfig.Tier select(RouteConfig route, RequestFacts facts, boolean classified) {
    RouteConfig.Classifier c = route.classifier();
    RouteConfig.Tier t = null;
    if (classified && facts.classifierLabel() == null && c.defaultTier() != null) {
      t = TierSelector.named(route, c.defaultTier()).orElse(null);
    }
    return t != null ? t : TierSelector.select(route, facts);
  }

  /**
   * The tier's targets in try order (the weighted pick for this request, or this caller when the
   * route has affinity, first), then its fallbacks in order.
   */
  static List<RouteConfig.TargetRef> candidates(
      RouteConfig route, RouteConfig.Tier t, String requestId, Function<String, String> headers) {
    String key = requestId;
    if (route.affinity() != null && route.affinity().header() != null) {
      String sticky = headers.apply(route.affinity().header());
      if (sticky != null && !sticky.isBlank()) {
        key = sticky;
      }
    }
    List<RouteConfig.TargetRef> out = new ArrayList<>();
    if (!t.targets().isEmpty()) {
      WeightedSplit.order(t.targets(), key).forEach(x -> out.add(x.ref()));
    }
    for (RouteConfig.TargetRef f : t.fallbacks()) {
      if (!out.contains(f)) {
        out.add(f);
      }
    }
    return out;
  }

  /**
   * An embeddings call's candidates: those whose declared dimensions are the tier's first target's,
   * so that failover never answers with vectors of another length than the index the caller
   * searches was built with. Candidates that declare none stay (nothing to compare); when the first
   * target declares none, all stay.
   */
  static List<RouteConfig.TargetRef> sameDimensions(
      RouteConfig route, RouteConfig.Tier t, List<RouteConfig.TargetRef> candidates) {
    if (t.targets().isEmpty()) {
      return candidates;
    }
    RouteConfig.Target first = t.targets().get(0);
    Integer dims = route.dimensionsOf(first.credential(), first.model());
    if (dims == null) {
      return candidates;
    }
    return candidates.stream()
        .filter(
            c -> {
              Integer d = route.dimensionsOf(c.credential(), c.model());
              return d == null || d.equals(dims);
            })
        .toList();
  }
}
