package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Health of a provider model or a route target as sidecars observe it. */
public enum Health {
  @JsonProperty("Healthy")
  HEALTHY,
  @JsonProperty("Degraded")
  DEGRADED,
  @JsonProperty("Unavailable")
  UNAVAILABLE,
  /** No sidecar has reported on it yet. */
  @JsonProperty("Unknown")
  UNKNOWN
}
