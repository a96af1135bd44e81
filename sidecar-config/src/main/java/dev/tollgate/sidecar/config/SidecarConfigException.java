package dev.tollgate.sidecar.config;

import java.util.List;

/** A configuration text that cannot be read, or that reads but is not valid. */
public class SidecarConfigException extends Exception {
  private final List<String> problems;

  public SidecarConfigException(String message, List<String> problems, Throwable cause) {
    super(message + (problems.isEmpty() ? "" : ": " + String.join("; ", problems)), cause);
    this.problems = List.copyOf(problems);
  }

  /** Each problem names the field path, e.g. {@code routes[chat].tiers[0].targets: ...}. */
  public List<String> problems() {
    return problems;
  }
}
