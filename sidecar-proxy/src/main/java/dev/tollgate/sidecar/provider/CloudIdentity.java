package dev.tollgate.sidecar.provider;

import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One credential's cloud identity (AWS credentials, a Google or Entra access token), fetched and
 * renewed by {@link CloudIdentities} on its own thread before it expires, never on an event loop:
 * the data path only reads what is current. A failed renewal keeps the previous value while it is
 * still valid, so a refresh never drops a call; once nothing valid is left, calls fail with the
 * reason (expired, denied) and move to the next candidate.
 *
 * @param <T> what a call presents: credentials to sign with, or a bearer token
 */
public final class CloudIdentity<T> {
  /** What a fetch returns: the value and when it stops being valid (null: never). */
  public record Fetched<T>(T value, Instant expiry) {}

  /** Fetches a fresh value; blocking I/O is fine, it runs on the identities' own thread. */
  @FunctionalInterface
  public interface Fetcher<T> {
    Fetched<T> fetch() throws Exception;
  }

  /** Renew when less than this is left (AWS's and Google's libraries use about the same). */
  static final Duration REFRESH_AHEAD = Duration.ofMinutes(5);

  private final String credential;
  private final String fingerprint;
  private final String what;
  private final Fetcher<T> fetcher;
  private final Clock clock;
  private volatile Fetched<T> current;
  private volatile String problem = "not fetched yet";

  CloudIdentity(
      String credential, String fingerprint, String what, Fetcher<T> fetcher, Clock clock) {
    this.credential = credential;
    this.fingerprint = fingerprint;
    this.what = what;
    this.fetcher = fetcher;
    this.clock = clock;
  }

  /**
   * The current value, for a call.
   *
   * @throws ProxyException {@link ErrorKind#MISSING_CREDENTIAL} saying why there is none
   */
  public T current() {
    Fetched<T> f = current;
    if (f != null && (f.expiry() == null || f.expiry().isAfter(clock.instant()))) {
      return f.value();
    }
    throw new ProxyException(
        ErrorKind.MISSING_CREDENTIAL,
        "the "
            + what
            + " of credential "
            + credential
            + " is not available: "
            + (f == null ? problem : "it expired at " + f.expiry() + " and " + problem));
  }

  /** Why the last fetch failed, or null when it succeeded. */
  public String problem() {
    return problem;
  }

  /** Whether a fetch is due: nothing yet, or less than {@link #REFRESH_AHEAD} left. */
  boolean due() {
    Fetched<T> f = current;
    return f == null
        || (f.expiry() != null && f.expiry().minus(REFRESH_AHEAD).isBefore(clock.instant()));
  }

  /** Fetches now (on the identities' thread); keeps the old value when it fails. */
  void refresh() {
    try {
      Fetched<T> f = Objects.requireNonNull(fetcher.fetch(), "fetch returned nothing");
      current = f;
      problem = null;
    } catch (Exception e) {
      problem = describe(e);
    }
  }

  String fingerprint() {
    return fingerprint;
  }

  String what() {
    return what;
  }

  /** A one-line reason that never holds a token: the exception's class and message. */
  private static String describe(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank()
        ? e.getClass().getSimpleName()
        : m.lines().findFirst().orElse(m).trim();
  }
}
