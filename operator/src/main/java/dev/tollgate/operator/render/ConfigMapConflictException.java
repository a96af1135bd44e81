package dev.tollgate.operator.render;

/**
 * A ConfigMap with the operator's name exists in a namespace but was not created by the operator.
 * Retrying cannot help; a person has to rename or delete it.
 */
public final class ConfigMapConflictException extends RuntimeException {
  public ConfigMapConflictException(String message) {
    super(message);
  }
}
