package dev.tollgate.operator.webhook;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.webhook.admission.AdmissionController;
import io.javaoperatorsdk.webhook.admission.AdmissionRequestHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS endpoint the API server calls for pod admission ({@code POST /mutate-pods}). The JDK's
 * HTTPS server is enough for a handful of requests per pod start; AdmissionReview parsing and patch
 * computation come from the java-operator-sdk webhooks framework.
 */
public final class WebhookServer implements AutoCloseable {
  public static final String MUTATE_PODS_PATH = "/mutate-pods";
  private static final Logger LOG = LoggerFactory.getLogger(WebhookServer.class);
  private static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

  private final HttpsServer server;
  private final ExecutorService executor;

  private WebhookServer(HttpsServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Starts listening on {@code port} (0 picks a free one). */
  public static WebhookServer start(int port, WebhookTls tls, AdmissionRequestHandler podHandler)
      throws IOException {
    return start(port, tls.serverContext(), podHandler);
  }

  /** Starts listening on {@code port} with {@code context} (e.g. one that follows renewals). */
  public static WebhookServer start(
      int port, javax.net.ssl.SSLContext context, AdmissionRequestHandler podHandler)
      throws IOException {
    HttpsServer server = HttpsServer.create(new InetSocketAddress(port), 64);
    server.setHttpsConfigurator(new HttpsConfigurator(context));
    AdmissionController<?> controller = new AdmissionController<>(podHandler);
    server.createContext(MUTATE_PODS_PATH, exchange -> handle(exchange, controller));
    server.createContext("/healthz", exchange -> respond(exchange, 200, "text/plain", "ok"));
    ExecutorService executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "tollgate-webhook");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.start();
    LOG.info("admission webhook listening on https port {}", server.getAddress().getPort());
    return new WebhookServer(server, executor);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void handle(HttpExchange exchange, AdmissionController<?> controller)
      throws IOException {
    try (exchange) {
      if (!"POST".equals(exchange.getRequestMethod())) {
        respond(exchange, 405, "text/plain", "POST an AdmissionReview");
        return;
      }
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readNBytes(MAX_BODY_BYTES + 1);
      }
      if (body.length > MAX_BODY_BYTES) {
        respond(exchange, 413, "text/plain", "AdmissionReview larger than 4 MiB");
        return;
      }
      AdmissionReview review;
      try {
        review =
            Serialization.unmarshal(
                new String(body, StandardCharsets.UTF_8), AdmissionReview.class);
      } catch (RuntimeException e) {
        respond(exchange, 400, "text/plain", "malformed AdmissionReview: " + e.getMessage());
        return;
      }
      if (review == null || review.getRequest() == null) {
        respond(exchange, 400, "text/plain", "AdmissionReview without a request");
        return;
      }
      AdmissionReview answer = controller.handle(review);
      respond(exchange, 200, "application/json", Serialization.asJson(answer));
    }
  }

  private static void respond(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(1);
    executor.shutdownNow();
  }
}
