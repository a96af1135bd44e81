package dev.tollgate.operator.validation;

import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether a route's tiers mix embedding models of different declared dimensions. Not a reason to
 * refuse the route (the sidecar never fails over across dimensions, so it still serves), but a
 * fallback that can never be used is worth a condition.
 */
public final class EmbeddingDimensions {
  private EmbeddingDimensions() {}

  /**
   * Empty when no target or fallback declares dimensions; else one sentence per tier that mixes
   * them (an empty list when none does).
   */
  public static Optional<List<String>> mixed(LLMRouteSpec spec) {
    if (spec == null) {
      return Optional.empty();
    }
    boolean declared = false;
    List<String> mixes = new ArrayList<>();
    for (LLMRouteSpec.Tier t : spec.getTiers()) {
      Map<String, Integer> byModel = new LinkedHashMap<>();
      for (LLMRouteSpec.Target x : t.getTargets()) {
        if (x.getDimensions() != null) {
          byModel.putIfAbsent(x.getCredential() + "/" + x.getModel(), x.getDimensions());
        }
      }
      for (LLMRouteSpec.Fallback f : t.getFallbacks()) {
        if (f.getDimensions() != null) {
          byModel.putIfAbsent(f.getCredential() + "/" + f.getModel(), f.getDimensions());
        }
      }
      declared |= !byModel.isEmpty();
      if (byModel.values().stream().distinct().count() > 1) {
        List<String> parts = new ArrayList<>();
        byModel.forEach((m, d) -> parts.add(m + " " + d));
        mixes.add("tier " + t.getName() + " mixes " + String.join(", ", parts));
      }
    }
    return declared ? Optional.of(mixes) : Optional.empty();
  }
}
