package dev.tollgate.operator.report;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tollgate.operator.https.GuardedHttpsServer;
import dev.tollgate.operator.https.GuardedHttpsServer.Request;
import dev.tollgate.operator.https.GuardedHttpsServer.Response;
import dev.tollgate.operator.ledger.Accounting;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS endpoint sidecars report to ({@code POST /v1/reports}). Everything in a report is
 * untrusted (any pod in the cluster can obtain a token and reach this port), so a report passes, in
 * order: a bearer token (TokenReview, cached by token hash: {@link CachingTokenReviewer}) that is
 * bound to a pod; a per-pod rate limit; every field checked ({@link ReportValidator}, 400 naming
 * the field); the report must be the token's own namespace, pod and pod UID (403). The provider
 * batches it names are stored ({@link dev.tollgate.operator.batch.BatchMeter#record}), then it is
 * handed to {@link Accounting}; the answer goes out once it is applied, without a thread waiting
 * for it. Every replica serves it; the ledger's optimistic concurrency keeps two replicas from
 * applying the same report twice. The server itself bounds connections, handshakes and slow senders
 * ({@link GuardedHttpsServer}).
 */
public final class ReportServer implements AutoCloseable {
  public static final String PATH = "/v1/reports";
  private static final Logger LOG = LoggerFactory.getLogger(ReportServer.class);
  static final int MAX_BODY_BYTES = 1024 * 1024;

  /**
   * How many connections and requests the report port holds ({@code TOLLGATE_REPORT_*}).
   *
   * <p>Sidecars keep their connection to the operator alive between reports (and the configuration
   * fetch may hold a second one), so a leader serving N pods holds about N connections, up to 2N:
   * the default, 20,000, covers 10,000 pods. Each connection is a file descriptor: the operator's
   * open-file limit ({@code ulimit -n}, the container runtime's default) must exceed it with room
   * for the rest of the JVM (a thousand or so), and each idle TLS connection costs some tens of KiB
   * of heap. Idle or slow connections still go within seconds (handshake and request deadlines), so
   * the cap only has to cover honest sidecars.
   *
   * @param maxConnections open connections beyond this are closed at once ({@code
   *     TOLLGATE_REPORT_MAX_CONNECTIONS})
   * @param workers threads running TokenReviews (cached) and JSON parsing; a report waiting for its
   *     group commit holds none ({@code TOLLGATE_REPORT_WORKERS})
   * @param queue requests waiting for a worker; beyond it 503 with Retry-After ({@code
   *     TOLLGATE_REPORT_QUEUE})
   */
  public record Capacity(int maxConnections, int workers, int queue) {
    public static final Capacity DEFAULT = new Capacity(20_000, 16, 1024);

    public Capacity {
      if (maxConnections < 1 || workers < 1 || queue < 1) {
        throw new IllegalArgumentException(
            "report endpoint capacity: connections, workers and queue must each be at least 1, got "
                + maxConnections
                + ", "
                + workers
                + ", "
                + queue);
      }
    }

    /** From {@code TOLLGATE_REPORT_MAX_CONNECTIONS}, {@code _WORKERS}, {@code _QUEUE}. */
    public static Capacity fromEnv(Map<String, String> env) {
      return new Capacity(
          positive(env, "TOLLGATE_REPORT_MAX_CONNECTIONS", DEFAULT.maxConnections),
          positive(env, "TOLLGATE_REPORT_WORKERS", DEFAULT.workers),
          positive(env, "TOLLGATE_REPORT_QUEUE", DEFAULT.queue));
    }

    private static int positive(Map<String, String> env, String name, int fallback) {
      String v = env.get(name);
      if (v == null || v.isBlank()) {
        return fallback;
      }
      try {
        int n = Integer.parseInt(v.trim());
        if (n >= 1) {
          return n;
        }
      } catch (NumberFormatException e) {
        // below
      }
      throw new IllegalArgumentException(
          name + ": expected a whole number of 1 or more, got '" + v + "'");
    }

    GuardedHttpsServer.Limits limits() {
      return new GuardedHttpsServer.Limits(
          Duration.ofSeconds(5),
          Duration.ofSeconds(10),
          Duration.ofSeconds(60),
          maxConnections,
          MAX_BODY_BYTES,
          workers,
          queue);
    }
  }

  static final ObjectMapper JSON =
      JsonMapper.builder()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .build();

  static {
    JSON.getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder()
                .maxNumberLength(32)
                .maxStringLength(64 * 1024)
                .maxNestingDepth(16)
                .build());
  }

  private final GuardedHttpsServer server;
  private final TokenReviewer reviewer;
  private final Accounting accounting;
  private final dev.tollgate.operator.batch.BatchMeter batches;
  private final ReporterRateLimit rateLimit = new ReporterRateLimit(20, 5);

  private ReportServer(
      int port,
      SSLContext tls,
      TokenReviewer reviewer,
      Accounting accounting,
      ConfigEndpoint.ConfigLookup configs,
      Capacity capacity,
      dev.tollgate.operator.batch.BatchMeter batches)
      throws IOException {
    this.reviewer = new CachingTokenReviewer(reviewer);
    this.accounting = accounting;
    this.batches = batches;
    Map<String, GuardedHttpsServer.Handler> routes = new LinkedHashMap<>();
    routes.put(PATH, this::handle);
    if (configs != null) {
      routes.put(ConfigEndpoint.PATH, new ConfigEndpoint(this::authenticate, configs));
    }
    this.server =
        GuardedHttpsServer.start("tollgate-reports", port, tls, capacity.limits(), routes);
    LOG.info(
        "report endpoint listening on https port {} (at most {} connections, {} workers)",
        server.port(),
        capacity.maxConnections(),
        capacity.workers());
  }

  /** Starts listening on {@code port} (0 picks a free one), without the configuration endpoint. */
  public static ReportServer start(
      int port, SSLContext tls, TokenReviewer reviewer, Accounting accounting) throws IOException {
    return start(port, tls, reviewer, accounting, null, Capacity.DEFAULT);
  }

  /**
   * Starts listening on {@code port} (0 picks a free one); with {@code configs}, also serves {@code
   * GET /v1/config} ({@link ConfigEndpoint}).
   */
  static ReportServer start(
      int port,
      SSLContext tls,
      TokenReviewer reviewer,
      Accounting accounting,
      ConfigEndpoint.ConfigLookup configs,
      Capacity capacity)
      throws IOException {
    return new ReportServer(port, tls, reviewer, accounting, configs, capacity, null);
  }

  /**
   * As {@link #start(int, SSLContext, TokenReviewer, Accounting, ConfigEndpoint.ConfigLookup,
   * Capacity)}, opening the batches reports carry in {@code batches} before their usage is applied.
   */
  static ReportServer start(
      int port,
      SSLContext tls,
      TokenReviewer reviewer,
      Accounting accounting,
      ConfigEndpoint.ConfigLookup configs,
      Capacity capacity,
      dev.tollgate.operator.batch.BatchMeter batches)
      throws IOException {
    return new ReportServer(port, tls, reviewer, accounting, configs, capacity, batches);
  }

  public int port() {
    return server.port();
  }

  /**
   * The pod behind a request's bearer token, or the response refusing it: 401 without a valid
   * pod-bound token, 429 when the pod asks too often.
   */
  Authenticated authenticate(Request request) {
    String auth = request.headers().get("Authorization");
    if (auth == null || !auth.startsWith("Bearer ") || auth.length() <= 7) {
      return Authenticated.refused(
          json(401, "send the pod's projected token as Authorization: Bearer"));
    }
    Optional<TokenReviewer.Identity> who = reviewer.review(auth.substring(7).trim());
    if (who.isEmpty()) {
      return Authenticated.refused(
          json(
              401,
              "the token is not a pod-bound ServiceAccount token for audience "
                  + TokenReviewer.AUDIENCE));
    }
    if (!rateLimit.tryAcquire(who.get())) {
      return Authenticated.refused(
          json(429, "too many requests from pod " + who.get().podName() + "; slow down")
              .withHeader("Retry-After", "1"));
    }
    return new Authenticated(who.get(), null);
  }

  /** A request's identity, or why it has none. */
  record Authenticated(TokenReviewer.Identity who, Response refusal) {
    static Authenticated refused(Response refusal) {
      return new Authenticated(null, refusal);
    }
  }

  private CompletableFuture<Response> handle(Request request) {
    if (!"POST".equals(request.method())) {
      return done(json(405, "POST a usage report"));
    }
    Authenticated auth = authenticate(request);
    if (auth.refusal() != null) {
      return done(auth.refusal());
    }
    UsageReport report;
    try {
      report = JSON.readValue(request.body(), UsageReport.class);
    } catch (IOException e) {
      return done(json(400, "malformed report: " + firstLine(e.getMessage())));
    }
    if (report == null) {
      return done(json(400, "malformed report: empty"));
    }
    Optional<String> invalid = ReportValidator.problem(report);
    if (invalid.isPresent()) {
      LOG.warn(
          "rejected a report of pod {}/{}: {}",
          auth.who().namespace(),
          auth.who().podName(),
          invalid.get());
      return done(json(400, "invalid report: " + invalid.get()));
    }
    String problem = check(report, auth.who());
    if (problem != null) {
      LOG.warn("rejected report: {}", problem);
      return done(json(403, problem));
    }
    if (!report.batches().isEmpty()) {
      // the batches are stored before the report is acknowledged, or the report is not
      if (batches == null) {
        LOG.error(
            "a report of pod {} names {} batches and this endpoint meters none; they are not"
                + " metered",
            report.pod(),
            report.batches().size());
      } else {
        try {
          batches.record(report.namespace(), report.pod(), report.batches());
        } catch (RuntimeException e) {
          LOG.warn("cannot store the batches of pod {}: {}", report.pod(), e.toString());
          return done(
              json(503, "the report's batches could not be stored yet; resend it unchanged")
                  .withHeader("Retry-After", "1"));
        }
      }
    }
    return accounting
        .submit(report)
        .orTimeout(10, TimeUnit.SECONDS)
        .handle(
            (reply, e) -> {
              if (e == null) {
                try {
                  return Response.of(200, "application/json", JSON.writeValueAsBytes(reply));
                } catch (IOException io) {
                  throw new IllegalStateException(io);
                }
              }
              if (!(e instanceof TimeoutException || e.getCause() instanceof TimeoutException)) {
                LOG.warn("applying a report of pod {} failed: {}", report.pod(), e.toString());
              }
              return json(503, "the report could not be applied yet; resend it unchanged")
                  .withHeader("Retry-After", "1");
            });
  }

  /** Why {@code report} may not be accepted from {@code who}, or null. */
  static String check(UsageReport report, TokenReviewer.Identity who) {
    if (report.namespace() == null
        || report.pod() == null
        || report.podUid() == null
        || report.bootId() == null
        || report.sequence() < 1) {
      return "a report needs namespace, pod, podUid, bootId and a sequence from 1";
    }
    if (!report.namespace().equals(who.namespace())) {
      return "ServiceAccount "
          + who.namespace()
          + "/"
          + who.serviceAccount()
          + " may only report for namespace "
          + who.namespace()
          + ", not "
          + report.namespace();
    }
    if (!who.podName().equals(report.pod())) {
      return "the token is bound to pod " + who.podName() + ", not " + report.pod();
    }
    if (who.podUid() != null && !who.podUid().equals(report.podUid())) {
      return "the token is bound to pod "
          + who.podName()
          + " with UID "
          + who.podUid()
          + ", not UID "
          + report.podUid();
    }
    return null;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    String line = nl < 0 ? message : message.substring(0, nl);
    return line.length() > 300 ? line.substring(0, 300) + "…" : line;
  }

  private static CompletableFuture<Response> done(Response r) {
    return CompletableFuture.completedFuture(r);
  }

  static Response json(int status, String message) {
    try {
      return Response.of(
          status, "application/json", JSON.writeValueAsBytes(Map.of("error", message)));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.close();
  }
}
