package dev.tollgate.operator.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ModelPrice;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.ProviderKind;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link OpenAiBatches} against a loopback stand-in for OpenAI that answers with the API
 * reference's shapes: the batch object ({@code status}, {@code output_file_id}, {@code
 * error_file_id}, {@code request_counts}) and file contents as JSONL request-output lines.
 */
class OpenAiBatchesIT {
  private static final String OK_LINE = OpenAiStub.OK_LINE;
  private static final String EXPIRED_LINE = OpenAiStub.EXPIRED_LINE;
  private OpenAiStub stub;
  private List<String> seen;
  private final OpenAiBatches batches = new OpenAiBatches();

  @BeforeEach
  void start() throws IOException {
    stub = OpenAiStub.start();
    seen = stub.seen();
  }

  @AfterEach
  void stop() {
    stub.close();
  }

  private String base() {
    return stub.base();
  }

  /** gpt-4o pinned at $5 / $15 per million by the credential; OpenAI's batch discount is 50%. */
  private CredentialConfig openai() {
    return credential(ProviderKind.OPENAI, base() + "/v1/", null);
  }

  private static CredentialConfig credential(
      ProviderKind kind, String endpoint, CredentialConfig.Azure azure) {
    return CredentialConfig.builder("openai", kind)
        .endpoint(endpoint)
        .apiKeyFile("/k")
        .azure(azure)
        .prices(
            List.of(
                new ModelPrice(
                    "gpt-4o", new BigDecimal("5.00"), new BigDecimal("15.00"), null, null)))
        .build();
  }

  private static String batch(String status, String output, String error) {
    return OpenAiStub.batch("batch_abc123", status, output, error);
  }

  private ProviderBatches.Poll poll(CredentialConfig c) {
    return batches.poll(c, "sk-operator", "batch_abc123", PriceCatalogue.builtIn());
  }

  @Test
  void runningStatesArePolledAgain() {
    for (String s : List.of("validating", "in_progress", "finalizing", "cancelling")) {
      stub.answer("/v1/batches/batch_abc123", 200, batch(s, null, null));
      assertThat(poll(openai())).isEqualTo(new ProviderBatches.Running(s));
    }
    assertThat(seen).allMatch(r -> r.startsWith("GET /v1/batches/batch_abc123 Bearer sk-operator"));
  }

  @Test
  void aCompletedBatchIsPricedFromItsOutputFileAndItsErrorFileCounted() {
    stub.answer("/v1/batches/batch_abc123", 200, batch("completed", "file-out", "file-err"));
    stub.answer("/v1/files/file-out/content", 200, OK_LINE + OK_LINE);
    stub.answer(
        "/v1/files/file-err/content",
        200,
        EXPIRED_LINE.replace("batch_expired", "request_timeout") + "garbage\n");
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
      stub.answer("/v1/batches/batch_abc123", 200, batch(s, "file-out", null));
      stub.answer(
          "/v1/files/file-out/content",
          200,
          OK_LINE + EXPIRED_LINE.replace("batch_expired", "batch_" + s));
      var r = ((ProviderBatches.Ended) poll(openai())).results();
      assertThat(r.costUsd()).as(s).isEqualByComparingTo("0.00625");
      assertThat(r.failed()).as(s).isEqualTo(1);
    }
  }

  @Test
  void aFailedBatchWithoutOutputEndsAtNothing() {
    stub.answer("/v1/batches/batch_abc123", 200, batch("failed", null, null));
    var r = ((ProviderBatches.Ended) poll(openai())).results();
    assertThat(r.costUsd()).isEqualByComparingTo("0");
    assertThat(r.succeeded()).isZero();
    assertThat(seen).hasSize(1);
  }

  @Test
  void refusalsAndGoneBatchesAreTold() {
    stub.answer("/v1/batches/batch_abc123", 401, "{\"error\":{}}");
    assertThat(poll(openai()))
        .isInstanceOfSatisfying(
            ProviderBatches.Failed.class,
            f -> {
              assertThat(f.reason()).isEqualTo("ProviderRefusedKey");
              assertThat(f.permanent()).isTrue();
              assertThat(f.message()).doesNotContain("sk-operator");
            });
    stub.answer("/v1/batches/batch_abc123", 503, "{}");
    assertThat(poll(openai()))
        .isInstanceOfSatisfying(
            ProviderBatches.Failed.class, f -> assertThat(f.permanent()).isFalse());
    stub.forget("/v1/batches/batch_abc123");
    assertThat(poll(openai())).isInstanceOf(ProviderBatches.Gone.class);
    stub.answer("/v1/batches/batch_abc123", 200, "{\"status\":\"on_holiday\"}");
    assertThat(poll(openai()))
        .isInstanceOfSatisfying(
            ProviderBatches.Failed.class, f -> assertThat(f.reason()).isEqualTo("UnreadableBatch"));
  }

  @Test
  void anOutputFileDeletedBeforeItWasReadIsChargedFromTheEstimateNotErased() {
    stub.answer("/v1/batches/batch_abc123", 200, batch("completed", "file-out", null));
    assertThat(poll(openai()))
        .isInstanceOfSatisfying(
            ProviderBatches.ResultsGone.class,
            g -> {
              assertThat(g.completed()).isEqualTo(2);
              assertThat(g.total()).isEqualTo(4);
              assertThat(g.message()).contains("file-out");
            });
  }

  @Test
  void aFileIdThatIsNotOneNeverReachesAUrl() {
    stub.answer("/v1/batches/batch_abc123", 200, batch("completed", "../../admin", null));
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
    stub.answer("/openai/batches/batch_abc123", 200, batch("completed", "file-out", null));
    stub.answer("/openai/files/file-out/content", 200, OK_LINE);
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
