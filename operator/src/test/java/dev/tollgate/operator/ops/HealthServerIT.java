package dev.tollgate.operator.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class HealthServerIT {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void servesHealthReadinessAndReconcileMetrics() throws Exception {
    OperatorMetrics metrics = new OperatorMetrics(new PrometheusRegistry());
    metrics.timeControllerExecution(execution("llmroute", false));
    try {
      metrics.timeControllerExecution(execution("llmroute", true));
    } catch (IllegalStateException expected) {
      // a failed reconcile is counted and rethrown for JOSDK to retry
    }
    AtomicBoolean ready = new AtomicBoolean(false);
    try (HealthServer server = new HealthServer(0, ready::get, metrics.registry())) {
      server.start();

      assertThat(get(server, "/healthz").statusCode()).isEqualTo(200);
      assertThat(get(server, "/readyz").statusCode()).isEqualTo(503);
      ready.set(true);
      assertThat(get(server, "/readyz").statusCode()).isEqualTo(200);
      String body = get(server, "/metrics").body();
      assertThat(body)
          .contains(
              "tollgate_operator_reconciles_total{controller=\"llmroute\",operation=\"reconcile\",result=\"noUpdate\"} 1")
          .contains("tollgate_operator_reconcile_errors_total{controller=\"llmroute\"} 1")
          .contains("tollgate_operator_reconcile_duration_seconds_count{controller=\"llmroute\"");
    }
  }

  private HttpResponse<String> get(HealthServer server, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static Metrics.ControllerExecution<String> execution(String controller, boolean fail) {
    return new Metrics.ControllerExecution<>() {
      @Override
      public String name() {
        return "reconcile";
      }

      @Override
      public String controllerName() {
        return controller;
      }

      @Override
      public String successTypeName(String result) {
        return result;
      }

      @Override
      public ResourceID resourceID() {
        return new ResourceID("r", "ns");
      }

      @Override
      public Map<String, Object> metadata() {
        return Map.of();
      }

      @Override
      public String execute() {
        if (fail) {
          throw new IllegalStateException("boom");
        }
        return "noUpdate";
      }
    };
  }
}
