package dev.tollgate.operator.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.tollgate.operator.ledger.Accounting;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS endpoint sidecars report to ({@code POST /v1/reports}): authenticates the caller's
 * projected token, checks that it reports for its own namespace, hands the report to {@link
 * Accounting} and answers once it is applied. Every replica serves it; the ledger's optimistic
 * concurrency keeps two replicas from applying the same report twice.
 */
public final class ReportServer implements AutoCloseable {
  public static final String PATH = "/v1/reports";
  private static final Logger LOG = LoggerFactory.getLogger(ReportServer.class);
  private static final int MAX_BODY_BYTES = 1024 * 1024;
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final HttpsServer server;
  private final ExecutorService executor;
  private final TokenReviewer reviewer;
  private final Accounting accounting;

  private ReportServer(
      HttpsServer server, ExecutorService executor, TokenReviewer reviewer, Accounting accounting) {
    this.server = server;
    this.executor = executor;
    this.reviewer = reviewer;
    this.accounting = accounting;
  }

  /** Starts listening on {@code port} (0 picks a free one), without the configuration endpoint. */
  public static ReportServer start(
      int port, SSLContext tls, TokenReviewer reviewer, Accounting accounting) throws IOException {
    return start(port, tls, reviewer, accounting, null);
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
      ConfigEndpoint.ConfigLookup configs)
      throws IOException {
    HttpsServer server = HttpsServer.create(new InetSocketAddress(port), 256);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    // A handler thread waits for the group commit of its report, so the pool bounds how many
    // reports one commit can take: 64 per flush interval (128/s at 500 ms) covers 100 sidecars
    // reporting every 2 s with room for retries. The threads mostly sleep.
    ExecutorService executor =
        Executors.newFixedThreadPool(
            64,
            r -> {
              Thread t = new Thread(r, "tollgate-reports");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    ReportServer rs = new ReportServer(server, executor, reviewer, accounting);
    server.createContext(PATH, rs::handle);
    if (configs != null) {
      server.createContext(ConfigEndpoint.PATH, new ConfigEndpoint(reviewer, configs));
    }
    server.start();
    LOG.info("report endpoint listening on https port {}", server.getAddress().getPort());
    return rs;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"POST".equals(exchange.getRequestMethod())) {
        respond(exchange, 405, error("POST a usage report"));
        return;
      }
      String auth = exchange.getRequestHeaders().getFirst("Authorization");
      if (auth == null || !auth.startsWith("Bearer ") || auth.length() <= 7) {
        respond(exchange, 401, error("send the pod's projected token as Authorization: Bearer"));
        return;
      }
      Optional<TokenReviewer.Identity> who = reviewer.review(auth.substring(7).trim());
      if (who.isEmpty()) {
        respond(
            exchange,
            401,
            error("the token is not a valid ServiceAccount token for audience tollgate"));
        return;
      }
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readNBytes(MAX_BODY_BYTES + 1);
      }
      if (body.length > MAX_BODY_BYTES) {
        respond(exchange, 413, error("report larger than 1 MiB"));
        return;
      }
      UsageReport report;
      try {
        report = JSON.readValue(body, UsageReport.class);
      } catch (IOException e) {
        respond(exchange, 400, error("malformed report: " + e.getMessage()));
        return;
      }
      String problem = check(report, who.get());
      if (problem != null) {
        LOG.warn("rejected report: {}", problem);
        respond(exchange, 403, error(problem));
        return;
      }
      try {
        ReportReply reply = accounting.submit(report).get(10, TimeUnit.SECONDS);
        respond(exchange, 200, JSON.writeValueAsBytes(reply));
      } catch (TimeoutException | ExecutionException e) {
        exchange.getResponseHeaders().set("Retry-After", "1");
        respond(exchange, 503, error("the report could not be applied yet; resend it unchanged"));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        respond(exchange, 503, error("the operator is stopping"));
      }
    }
  }

  /** Why {@code report} may not be accepted from {@code who}, or null. */
  static String check(UsageReport report, TokenReviewer.Identity who) {
    if (report.namespace() == null
        || report.podUid() == null
        || report.bootId() == null
        || report.sequence() < 1) {
      return "a report needs namespace, podUid, bootId and a sequence from 1";
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
    if (who.podName() != null && report.pod() != null && !who.podName().equals(report.pod())) {
      return "the token is bound to pod " + who.podName() + ", not " + report.pod();
    }
    return null;
  }

  private static byte[] error(String message) {
    try {
      return JSON.writeValueAsBytes(java.util.Map.of("error", message));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
