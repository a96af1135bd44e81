package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.routing.Limiter;
import dev.tollgate.sidecar.routing.TargetHealth;
import dev.tollgate.sidecar.server.ProxyContext;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The candidate loop of a call (the proxy endpoint, in Zuul's terms): sends each attempt to the
 * next candidate whose circuit admits a request and whose credential has capacity; when every
 * candidate was tried, retries from the first after a backoff ({@link RetryPolicy}); when every
 * candidate is ejected, tries the preferred one anyway. It keeps the count of failovers, reports
 * each attempt's outcome to its target's breaker, and records failed attempts in the ledger.
 */
final class Attempts {
  private static final Logger LOG = LoggerFactory.getLogger(Attempts.class);

  /** What the loop asks of its call. */
  interface Driver {
    boolean finished();

    void schedule(Duration wait, Runnable then);

    /** Sends attempt {@link #number()} to {@code model} of {@code credential}. */
    void send(CredentialConfig credential, String model);

    /** Ends the call with {@code e}. */
    void finalFail(ProxyException e);

    /**
     * The feature of the call's request that {@code model} of {@code credential} cannot take
     * ({@link dev.tollgate.sidecar.chat.Capabilities}), or null when it can serve the call.
     */
    default String unfit(CredentialConfig credential, String model) {
      return null;
    }

    /** The refusal of the call when no candidate can take its {@code feature}. */
    default ProxyException unfitRefusal(String feature) {
      return dev.tollgate.sidecar.chat.Capabilities.refused(feature, null);
    }
  }

  private final ProxyContext px;
  private final SidecarConfig cfg;
  private final RouteConfig route;
  private final boolean stream;
  private final Admission admission;
  private final ResponseRelay relay;
  private final Driver driver;
  private final long callStartNanos;
  private String tier;
  private List<RouteConfig.TargetRef> candidates;
  private int next;
  private int number;
  private int retries;
  private int failovers;
  private RouteConfig.TargetRef ejected;
  private boolean panic;
  private ProxyException lastFailure;
  private String unfitFeature;
  private Duration providerWait;
  private Duration limitedWait;
  private boolean previousFailed;
  private String failedProvider;
  private String failedCredential;
  private String failedModel;
  private TargetHealth health;
  private long attemptStartNanos;

  /** Why targets were passed over, for the call-log line ({@link #skipped()}). */
  private final List<String> skipped = new java.util.ArrayList<>(2);

  /** At most this many skip reasons are kept for one call (retry rounds repeat them). */
  static final int MAX_SKIPS_LOGGED = 16;

  /**
   * The loop of {@code call} (its route and configuration resolved), reading what {@code relay}
   * received.
   */
  Attempts(
      ProxyContext px, CallState call, Admission admission, ResponseRelay relay, Driver driver) {
    this.px = px;
    this.cfg = call.cfg;
    this.route = call.routeCfg;
    this.stream = call.stream;
    this.callStartNanos = call.startNanos;
    this.admission = admission;
    this.relay = relay;
    this.driver = driver;
  }

  /** Starts over on {@code tier}'s candidates (a new tier, or the escalation's stronger one). */
  void restart(String tier, List<RouteConfig.TargetRef> candidates) {
    this.tier = tier;
    this.candidates = candidates;
    this.next = 0;
    this.ejected = null;
    this.panic = false;
    this.unfitFeature = null;
  }

  /** The number of the current attempt (1 for the first). */
  int number() {
    return number;
  }

  int failovers() {
    return failovers;
  }

  /**
   * Targets passed over without a call, each as {@code credential/model: reason}: the feature the
   * target cannot carry ({@code image_url}, {@code logprobs}, ..., as in {@code
   * tollgate_translation_skips_total}), {@code probe_down}, {@code rate_limited} or {@code
   * circuit_open}.
   */
  List<String> skipped() {
    return skipped;
  }

  private void skip(CredentialConfig cred, String model, String reason) {
    if (skipped.size() < MAX_SKIPS_LOGGED) {
      skipped.add(cred.name() + "/" + model + ": " + reason);
    }
  }

  /** Rounds of retries started so far (each after trying every candidate once). */
  int retries() {
    return retries;
  }

  /** Whether the current attempt counts for its target's breaker (not a panic attempt). */
  boolean tracked() {
    return health != null;
  }

  /** Forgets the last failure (an escalated call starts its new tier afresh). */
  void forgetFailure() {
    lastFailure = null;
  }

  /**
   * Sends the next attempt; when every candidate was tried, a retry from the first after a backoff,
   * or the end of the call.
   */
  void next() {
    if (driver.finished()) {
      return;
    }
    try {
      while (next < candidates.size()) {
        RouteConfig.TargetRef c = candidates.get(next++);
        if (tryAttempt(c)) {
          return;
        }
        if (driver.finished()) {
          return;
        }
      }
      Duration wait =
          lastFailure == null ? null : RetryPolicy.retryDelay(retries, route.retry(), providerWait);
      if (wait != null) {
        retries++;
        next = 0;
        ejected = null;
        providerWait = null;
        driver.schedule(wait, this::next);
      } else if (lastFailure != null) {
        driver.finalFail(lastFailure);
      } else if (limitedWait != null) {
        driver.finalFail(
            Admission.limited(
                "every target of tier "
                    + tier
                    + " of route "
                    + route.model()
                    + " is at its credential's rate limit",
                limitedWait));
      } else if (unfitFeature != null && ejected == null) {
        // no candidate can take what the request needs: refused before any call, naming it
        driver.finalFail(driver.unfitRefusal(unfitFeature));
      } else if (ejected != null) {
        // Every candidate is ejected. As Envoy's panic threshold does, ignore ejection rather than
        // turn a partial outage into a total one: the preferred candidate is tried anyway (its
        // breaker is not told; its own half-open probe decides when it closes).
        RouteConfig.TargetRef c = ejected;
        ejected = null;
        panic = true;
        tryAttempt(c);
      } else {
        driver.finalFail(
            new ProxyException(
                ErrorKind.INTERNAL,
                "tier " + tier + " of route " + route.model() + " has no targets"));
      }
    } catch (ProxyException e) {
      driver.finalFail(e);
    }
  }

  /** Sends one attempt to {@code c}, or returns false to skip it (circuit open, limited). */
  private boolean tryAttempt(RouteConfig.TargetRef c) {
    CredentialConfig cred =
        cfg.credential(c.credential())
            .orElseThrow(
                () ->
                    new ProxyException(
                        ErrorKind.INTERNAL, "credential " + c.credential() + " is not declared"));
    String unfit = driver.unfit(cred, c.model());
    if (unfit != null) {
      // this target cannot carry the request (an image by URL to Bedrock): skipped for this
      // call without counting against it; a capable candidate serves it
      unfitFeature = unfit;
      px.metrics().translationSkip(route.model(), cred.provider().wireName(), unfit);
      skip(cred, c.model(), unfit);
      return false;
    }
    if (px.activeHealth().isDown(cred.name()) && next < candidates.size()) {
      skip(cred, c.model(), "probe_down");
      return false; // its probes fail; an alternative remains (the last candidate is still tried)
    }
    TargetHealth h = px.health().of(route, tier, cred, c.model());
    Limiter cl = admission.credentialBucket(cred);
    if (cl != null) {
      Duration wait = admission.tryTake(cl);
      if (!wait.isZero()) {
        if (admission.queue(wait)) {
          next--; // try the same target again once the bucket has refilled
          driver.schedule(wait, this::next);
          return true;
        }
        limitedWait = limitedWait == null || wait.compareTo(limitedWait) < 0 ? wait : limitedWait;
        if (!admission.failoverWhenLimited()) {
          throw Admission.limited("credential " + cred.name() + " is at its rate limit", wait);
        }
        skip(cred, c.model(), "rate_limited");
        return false;
      }
    }
    if (!panic && !h.tryAcquire()) {
      if (cl != null) {
        admission.refund(cl);
      }
      if (ejected == null) {
        ejected = c;
      }
      skip(cred, c.model(), "circuit_open");
      return false;
    }
    if (previousFailed) {
      previousFailed = false;
      failovers++;
      px.metrics().failover(route.model(), failedProvider, failedModel);
      // Recorded only once another attempt starts: a call that ends on this failure records it
      // once, as the call's own error.
      px.ledger()
          .recordFailedAttempt(
              new UsageLedger.Key(route.model(), tier, failedCredential, failedModel),
              lastFailure.kind());
    }
    number++;
    health = panic ? null : h;
    admission.attemptTook(cl);
    attemptStartNanos = System.nanoTime();
    driver.send(cred, c.model());
    return true;
  }

  /**
   * The current attempt to {@code model} of {@code credential} failed with {@code e}: remembers it
   * for the next attempt's bookkeeping, and the wait the provider asked for, for the retry.
   */
  void failed(ProxyException e, CredentialConfig credential, String model, String requestId) {
    Duration headerWait = relay.attemptWait();
    admission.attemptFailed();
    previousFailed = true;
    failedProvider = credential.provider().wireName();
    failedCredential = credential.name();
    failedModel = model;
    lastFailure = e;
    Duration asked = RetryPolicy.providerWait(headerWait, e, Instant.now());
    if (asked != null) {
      providerWait = asked;
    }
    LOG.debug(
        "request {} attempt {} to {}/{} failed ({}); moving on",
        requestId,
        number,
        credential.name(),
        model,
        e.kind().label());
  }

  /** Tells the current attempt's target how it went (once per attempt); {@code kind} null: well. */
  void report(ErrorKind kind) {
    long ttftNanos = relay.ttftNanos();
    int upstreamStatus = relay.upstreamStatus();
    TargetHealth h = health;
    if (h == null) {
      return;
    }
    health = null;
    long now = System.nanoTime();
    if (kind == null || kind == ErrorKind.UPSTREAM_REJECTED) {
      // Only a stream's first byte measures the provider's speed; a whole answer's arrival also
      // measures the answer's length, so it does not count as slow.
      if (stream && ttftNanos >= 0) {
        h.succeeded(
            Duration.ofNanos(Math.max(0, ttftNanos - (attemptStartNanos - callStartNanos))));
      } else {
        h.succeededWithoutTtft();
      }
    } else if (RetryPolicy.retryKind(kind) != null) {
      h.failed(
          Duration.ofNanos(now - attemptStartNanos),
          kind.label() + (upstreamStatus > 0 ? " (HTTP " + upstreamStatus + ")" : ""));
    } else {
      h.released();
    }
  }
}
