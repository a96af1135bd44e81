package dev.tollgate.operator.webhook;

import dev.tollgate.operator.https.GuardedHttpsServer;
import dev.tollgate.operator.https.GuardedHttpsServer.Request;
import dev.tollgate.operator.https.GuardedHttpsServer.Response;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.webhook.admission.AdmissionController;
import io.javaoperatorsdk.webhook.admission.AdmissionRequestHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS endpoint the API server calls for pod admission ({@code POST /mutate-pods}).
 * AdmissionReview parsing and patch computation come from the java-operator-sdk webhooks framework;
 * the server ({@link GuardedHttpsServer}) bounds handshakes, slow and idle connections, so that
 * connections nobody completes cannot keep the API server's admission calls waiting (with {@code
 * failurePolicy: Ignore} a webhook that does not answer in time means pods without the sidecar).
 */
public final class WebhookServer implements AutoCloseable {
  public static final String MUTATE_PODS_PATH = "/mutate-pods";
  private static final Logger LOG = LoggerFactory.getLogger(WebhookServer.class);

  /** A pod's AdmissionReview is far below etcd's 1.5 MiB object limit. */
  static final int MAX_BODY_BYTES = 2 * 1024 * 1024;

  /**
   * The API server's admission timeout is at most 30 s (the chart sets 5 s): a request must arrive
   * within 5 s of its first byte, a handshake within 5 s. 256 connections at 2 MiB bound the memory
   * bodies can take.
   */
  static final GuardedHttpsServer.Limits LIMITS =
      new GuardedHttpsServer.Limits(
          Duration.ofSeconds(5),
          Duration.ofSeconds(5),
          Duration.ofSeconds(90),
          256,
          MAX_BODY_BYTES,
          8,
          256);

  private final GuardedHttpsServer server;

  private WebhookServer(GuardedHttpsServer server) {
    this.server = server;
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
    AdmissionController<?> controller = new AdmissionController<>(podHandler);
    GuardedHttpsServer server =
        GuardedHttpsServer.start(
            "tollgate-webhook",
            port,
            context,
            LIMITS,
            Map.of(
                MUTATE_PODS_PATH,
                r -> CompletableFuture.completedFuture(handle(r, controller)),
                "/healthz",
                r -> CompletableFuture.completedFuture(Response.text(200, "ok"))));
    LOG.info("admission webhook listening on https port {}", server.port());
    return new WebhookServer(server);
  }

  public int port() {
    return server.port();
  }

  private static Response handle(Request request, AdmissionController<?> controller) {
    if (!"POST".equals(request.method())) {
      return Response.text(405, "POST an AdmissionReview");
    }
    AdmissionReview review;
    try {
      review =
          Serialization.unmarshal(
              new String(request.body(), StandardCharsets.UTF_8), AdmissionReview.class);
    } catch (RuntimeException e) {
      return Response.text(400, "malformed AdmissionReview: " + e.getMessage());
    }
    if (review == null || review.getRequest() == null) {
      return Response.text(400, "AdmissionReview without a request");
    }
    AdmissionReview answer = controller.handle(review);
    return Response.of(
        200, "application/json", Serialization.asJson(answer).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    server.close();
  }
}
