package dev.tollgate.sidecar.config;

import java.util.List;

/** Null-to-default helpers for the records' compact constructors. */
final class Defaults {
  private Defaults() {}

  static <T> T or(T value, T fallback) {
    return value == null ? fallback : value;
  }

  static <T> List<T> list(List<T> value) {
    return value == null ? List.of() : List.copyOf(value);
  }
}
