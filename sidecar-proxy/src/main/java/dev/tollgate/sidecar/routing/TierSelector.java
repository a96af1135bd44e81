package dev.tollgate.sidecar.routing;

import dev.tollgate.sidecar.config.RouteConfig;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Chooses a route's tier: the first tier whose rules all hold serves the request. A tier with no
 * rules matches everything, so it is normally the last one. The {@code x-tollgate-tier} header
 * names a tier directly and wins over the rules when it names one that exists.
 */
public final class TierSelector {
  /** Header a caller (or a budget downgrade) uses to ask for a tier by name. */
  public static final String TIER_HEADER = "x-tollgate-tier";

  // Patterns come from configuration and are few; compile each once.
  private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

  private TierSelector() {}

  /** The tier named {@code name}, if the route has one. */
  public static Optional<RouteConfig.Tier> named(RouteConfig route, String name) {
    return route.tiers().stream().filter(t -> t.name().equals(name)).findFirst();
  }

  public static RouteConfig.Tier select(RouteConfig route, RequestFacts facts) {
    String asked = facts.header().apply(TIER_HEADER);
    if (asked != null) {
      Optional<RouteConfig.Tier> t = named(route, asked.trim());
      if (t.isPresent()) {
        return t.get();
      }
    }
    for (RouteConfig.Tier t : route.tiers()) {
      if (matches(t.when(), facts)) {
        return t;
      }
    }
    // no tier matched: the last one is the catch-all by convention
    return route.tiers().get(route.tiers().size() - 1);
  }

  static boolean matches(RouteConfig.Match m, RequestFacts f) {
    if (m == null) {
      return true;
    }
    if (m.minInputTokens() != null && f.estimatedInputTokens() < m.minInputTokens()) {
      return false;
    }
    if (m.maxInputTokens() != null && f.estimatedInputTokens() > m.maxInputTokens()) {
      return false;
    }
    String text = f.lastUserText().toLowerCase(Locale.ROOT);
    if (!m.keywords().isEmpty()
        && m.keywords().stream().noneMatch(k -> text.contains(k.toLowerCase(Locale.ROOT)))) {
      return false;
    }
    if (!m.patterns().isEmpty()
        && m.patterns().stream()
            .noneMatch(
                p ->
                    PATTERNS
                        .computeIfAbsent(p, Pattern::compile)
                        .matcher(f.lastUserText())
                        .find())) {
      return false;
    }
    for (RouteConfig.HeaderMatch h : m.headers()) {
      String v = f.header().apply(h.name());
      if (v == null || (!h.values().isEmpty() && !h.values().contains(v.trim()))) {
        return false;
      }
    }
    if (!m.classifierLabels().isEmpty()
        && (f.classifierLabel() == null || !m.classifierLabels().contains(f.classifierLabel()))) {
      return false;
    }
    return true;
  }
}
