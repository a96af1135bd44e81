package dev.tollgate.operator.batch;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ModelPrice;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.ProviderKind;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link OpenAiBatches} against a loopback stand-in for OpenAI that answers with the API
 * reference's shapes: the batch object ({@code status}, {@code output_file_id}, {@code
 * error_file_id}, {@code request_counts}) and file contents as JSONL request-output lines.
 */
class OpenAiBatchesIT {
  private HttpServer server;
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();
  private final List<String> seen = new CopyOnWriteArrayList<>();
  private final OpenAiBatches batches = new OpenAiBatches();

  record Answer(int code, String body) {}

  static final String OK_LINE =
      "{\"id\":\"batch_req_1\",\"custom_id\":\"request-1\",\"response\":{\"status_code\":200,"
          + "\"request_id\":\"req_1\",\"body\":{\"object\":\"chat.completion\",\"model\":\"gpt-4o\","
          + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"total_tokens\":1500}}},"
          + "\"error\":null}\n";
  static final String EXPIRED_LINE =
      "{\"id\":\"batch_req_2\",\"custom_id\":\"request-2\",\"response\":null,"
          + "\"error\":{\"code\":\"batch_expired\",\"message\":\"This request could not be executed"
          + " before the completion window expired.\"}}\n";

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        ex -> {
          seen.add(
              ex.getRequestMethod()
                  + " "
                  + ex.getRequestURI()
                  + " "
                  + header(ex, "Authorization")
                  + " "
                  + header(ex, "api-key"));
          String path = ex.getRequestURI().getPath();
          Answer a = answers.getOrDefault(path, new Answer(404, "{\"error\":{}}"));
          byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(a.code(), body.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private static String header(HttpExchange ex, String name) {
    return String.valueOf(ex.getRequestHeaders().getFirst(name));
  }

  private String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** gpt-4o pinned at $5 / $15 per million by the credential; OpenAI's batch discount is 50%. */
  private CredentialConfig openai() {
    return credential(ProviderKind.OPENAI, base() + "/v1/", null);
  }

  private static CredentialConfig credential(
      ProviderKind kind, String endpoint, CredentialConfig.Azure azure) {
    return new CredentialConfig(
        "openai",
        kind,
        endpoint,
        "/k",
        azure,
        null,
        null,
        null,
        List.of(
            new ModelPrice("gpt-4o", new BigDecimal("5.00"), new BigDecimal("15.00"), null, null)),
        null,
        null);
  }

  private static String batch(String status, String output, String error) {
    return "{\"id\":\"batch_abc123\",\"object\":\"batch\",\"endpoint\":\"/v1/chat/completions\","
        + "\"errors\":null,\"input_file_id\":\"file-in\",\"completion_window\":\"24h\","
        + "\"status\":\""
        + status
        + "\",\"output_file_id\":"
        + (output == null ? "null" : "\"" + output + "\"")
        + ",\"error_file_id\":"
        + (error == null ? "null" : "\"" + error + "\"")
        + ",\"created_at\":1711471533,\"request_counts\":{\"total\":4,\"completed\":2,"
        + "\"failed\":2},\"metadata\":null}";
  }

  private ProviderBatches.Poll poll(CredentialConfig c) {
    return batches.poll(c, "sk-operator", "batch_abc123", PriceCatalogue.builtIn());
  }

  @Test
  void runningStatesArePolledAgain() {
    for (String s : List.of("validating", "in_progress", "finalizing", "cancelling")) {
      answers.put("/v1/batches/batch_abc123", new Answer(200, batch(s, null, null)));
      assertThat(poll(openai())).isEqualTo(new ProviderBatches.Running(s));
    }
    assertThat(seen).allMatch(r -> r.startsWith("GET /v1/batches/batch_abc123 Bearer sk-operator"));
  }

  @Test
  void aCompletedBatchIsPricedFromItsOutputFileAndItsErrorFileCounted() {
    answers.put(
        "/v1/batches/batch_abc123", new Answer(200, batch("completed", "file-out", "file-err")));
    answers.put("/v1/files/file-out/content", new Answer(200, OK_LINE + OK_LINE));
    answers.put(
        "/v1/files/file-err/content",
        new Answer(200, EXPIRED_LINE.replace("batch_expired", "request_timeout") + "garbage\n"));
    ProviderBatches.Poll poll = poll(openai());
    assertThat(poll).isInstanceOf(ProviderBatches.Ended.class);
    var s = ((ProviderBatches.Ended) poll).results();
    // 2 × (1,000 × $2.50 + 500 × $7.50) per million
    assertThat(s.costUsd()).isEqualByComparingTo("0.0125");
    assertThat(s.succeeded()).isEqualTo(2);
    assertThat(s.failed()).isEqualTo(1);
    assertThat(s.unreadable()).isEqualTo(1);
    assertThat(seen)
        .extracting(r -> r.split(" ")[1])
        .containsExactly(
            "/v1/batches/batch_abc123", "/v1/files/file-out/content", "/v1/files/file-err/content");
  }

  @Test
  void expiredAndCancelledBatchesPayForTheRequestsThatCompleted() {
    for (String s : List.of("expired", "cancelled")) {
      answers.put("/v1/batches/batch_abc123", new Answer(200, batch(s, "file-out", null)));
      answers.put(
          "/v1/files/file-out/content",
          new Answer(200, OK_LINE + EXPIRED_LINE.replace("batch_expired", "batch_" + s)));
      var r = ((ProviderBatches.Ended) poll(openai())).results();
      assertThat(r.costUsd()).as(s).isEqualByComparingTo("0.00625");
      assertThat(r.failed()).as(s).isEqualTo(1);
    }
  }

  @Test
  void aFailedBatchWithoutOutputEndsAtNothing() {
    answers.put("/v1/batches/batch_abc123", new Answer(200, batch("failed", null, null)));
    var r = ((ProviderBatches.Ended) poll(openai())).results();
    assertThat(r.costUsd()).isEqualByComparingTo("0");
    assertThat(r.succeeded()).isZero();
    assertThat(seen).hasSize(1);
  }

  @Test
  void refusalsAndGoneBatchesAreTold() {
    answers.put("/v1/batches/batch_abc123", new Answer(401, "{\"error\":{}}"));
    assertThat(poll(openai()))
        .isInstanceOfSatisfying(
            ProviderBatches.Failed.class,
            f -> {
              assertThat(f.reason()).isEqualTo("ProviderRefusedKey");
              assertThat(f.permanent()).isTrue();
              assertThat(f.message()).doesNotContain("sk-operator");
            });
    answers.put("/v1/batches/batch_abc123", new Answer(503, "{}"));
    assertThat(poll(openai()))
        .isInstanceOfSatisfying(
            ProviderBatches.Failed.class, f -> assertThat(f.permanent()).isFalse());
    answers.remove("/v1/batches/batch_abc123");
    assertThat(poll(openai())).isInstanceOf(ProviderBatches.Gone.class);
    answers.put("/v1/batches/batch_abc123", new Answer(200, "{\"status\":\"on_holiday\"}"));
    assertThat(poll(openai()))
        .isInstanceOfSatisfying(
            ProviderBatches.Failed.class, f -> assertThat(f.reason()).isEqualTo("UnreadableBatch"));
  }

  @Test
  void anOutputFileDeletedBeforeItWasReadKeepsTheHoldInsteadOfErasingTheSpend() {
    answers.put("/v1/batches/batch_abc123", new Answer(200, batch("completed", "file-out", null)));
    assertThat(poll(openai()))
        .isInstanceOfSatisfying(
            ProviderBatches.Failed.class,
            f -> {
              assertThat(f.reason()).isEqualTo("OutputFileGone");
              assertThat(f.permanent()).isTrue();
            });
  }

  @Test
  void aFileIdThatIsNotOneNeverReachesAUrl() {
    answers.put(
        "/v1/batches/batch_abc123", new Answer(200, batch("completed", "../../admin", null)));
    assertThat(poll(openai()))
        .isInstanceOfSatisfying(
            ProviderBatches.Failed.class, f -> assertThat(f.reason()).isEqualTo("UnreadableBatch"));
    assertThat(seen).hasSize(1);
  }

  @Test
  void azureOpenAiIsAskedAtItsOwnPathsWithItsOwnHeader() {
    CredentialConfig azure =
        credential(
            ProviderKind.AZURE_OPENAI, base() + "/", new CredentialConfig.Azure("gpt4o", null));
    answers.put(
        "/openai/batches/batch_abc123", new Answer(200, batch("completed", "file-out", null)));
    answers.put("/openai/files/file-out/content", new Answer(200, OK_LINE));
    var r = ((ProviderBatches.Ended) poll(azure)).results();
    assertThat(r.costUsd()).isEqualByComparingTo("0.00625");
    assertThat(seen)
        .containsExactly(
            "GET /openai/batches/batch_abc123?api-version=2024-10-21 null sk-operator",
            "GET /openai/files/file-out/content?api-version=2024-10-21 null sk-operator");

    CredentialConfig old =
        credential(
            ProviderKind.AZURE_OPENAI, base(), new CredentialConfig.Azure("gpt4o", "2024-02-01"));
    assertThat(poll(old))
        .isInstanceOfSatisfying(
            ProviderBatches.Failed.class, f -> assertThat(f.reason()).isEqualTo("BatchApiVersion"));
  }

  @Test
  void otherProvidersAreRefusedWithAReason() {
    assertThat(poll(credential(ProviderKind.MISTRAL, base(), null)))
        .isInstanceOfSatisfying(
            ProviderBatches.Failed.class,
            f -> {
              assertThat(f.reason()).isEqualTo("BatchApiUnsupported");
              assertThat(f.permanent()).isTrue();
            });
    assertThat(seen).isEmpty();
  }
}
