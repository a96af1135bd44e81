package dev.tollgate.operator.validation;

import java.util.List;

/**
 * One reason a resource cannot be applied: a CamelCase reason for the condition, the field it is
 * about (e.g. {@code spec.tiers[1].targets[0].credential}) and what to do about it.
 */
public record Problem(String reason, String field, String message) {

  /** The condition message: the field, then what is wrong and what to do. */
  public String describe() {
    return field + ": " + message;
  }

  /** A condition message for several problems: the first few, then a count of the rest. */
  public static String summarize(List<Problem> problems) {
    int shown = Math.min(problems.size(), 5);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < shown; i++) {
      if (i > 0) {
        sb.append("; ");
      }
      sb.append(problems.get(i).describe());
    }
    if (problems.size() > shown) {
      sb.append("; and ").append(problems.size() - shown).append(" more");
    }
    return sb.toString();
  }
}
