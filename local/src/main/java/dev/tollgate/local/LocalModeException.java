package dev.tollgate.local;

/** A failure with a message meant for the user, printed without a stack trace. */
final class LocalModeException extends RuntimeException {
  LocalModeException(String message) {
    super(message);
  }
}
