package dev.tollgate.sidecar.routing;

/** A target's circuit: serving, ejected, or letting one live request probe it. */
public enum CircuitState {
  CLOSED(0),
  OPEN(1),
  HALF_OPEN(2);

  private final int gaugeValue;

  CircuitState(int gaugeValue) {
    this.gaugeValue = gaugeValue;
  }

  /** Value of the {@code tollgate_circuit_state} gauge. */
  public int gaugeValue() {
    return gaugeValue;
  }
}
