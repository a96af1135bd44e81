package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.routing.TierSelector;

/**
 * Confidence escalation (seed "Pattern 3"): a whole answer from the route's cheap tier that starts
 * with the low-confidence marker is metered as its own call and the request is asked again of the
 * stronger tier, whose answer the caller gets. Streamed answers are never escalated: the marker is
 * only known once bytes reached the caller. A call escalates once at most.
 */
final class Escalation {
  private Escalation() {}

  /** The tier to ask again after {@code response} from {@code tier}, or null to keep it. */
  static RouteConfig.Tier strongerTier(RouteConfig route, String tier, ChatResponse response) {
    RouteConfig.Escalation e = route.escalation();
    if (e == null
        || e.lowConfidenceMarker() == null
        || e.lowConfidenceMarker().isEmpty()
        || !tier.equals(e.fromTier())
        || !response.text().stripLeading().startsWith(e.lowConfidenceMarker())) {
      return null;
    }
    return TierSelector.named(route, e.toTier()).orElse(null);
  }
}
