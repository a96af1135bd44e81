package dev.tollgate.sidecar.config.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ModelPrice;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * OpenAI batch output and error files priced at batch prices. The lines are OpenAI's own examples:
 * the API reference's "request output object" (platform.openai.com/docs/api-reference/batch/
 * request-output, model gpt-4o-mini, usage 24 + 15) and its batch object's {@code
 * BatchRequestOutputError} codes ({@code batch_expired}, {@code batch_cancelled}) from the
 * openai-openapi spec; the cached-token and Responses lines follow the chat completion's and the
 * response's {@code usage} objects of the same reference.
 */
class BatchResultsTest {
  private static final String OPENAI = UsageReport.AdmittedBatch.OPENAI_BATCH;

  /** gpt-4o-mini pinned at $0.15 / $0.60, cached input $0.075 per million; OpenAI's 50% off. */
  private static CredentialConfig credential() {
    return CredentialConfig.builder("openai", ProviderKind.OPENAI)
        .apiKeyFile("/k")
        .prices(
            List.of(
                new ModelPrice(
                    "gpt-4o-mini",
                    new BigDecimal("0.15"),
                    new BigDecimal("0.60"),
                    new BigDecimal("0.075"),
                    null)))
        .build();
  }

  /** The API reference's example line, verbatim. */
  static final String DOCS_LINE =
      "{\"id\": \"batch_req_wnaDys\", \"custom_id\": \"request-2\", \"response\": {\"status_code\":"
          + " 200, \"request_id\": \"req_c187b3\", \"body\": {\"id\": \"chatcmpl-9758Iw\", \"object\":"
          + " \"chat.completion\", \"created\": 1711475054, \"model\": \"gpt-4o-mini\", \"choices\":"
          + " [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"2 + 2 equals"
          + " 4.\"}, \"finish_reason\": \"stop\"}], \"usage\": {\"prompt_tokens\": 24,"
          + " \"completion_tokens\": 15, \"total_tokens\": 39}, \"system_fingerprint\": null}},"
          + " \"error\": null}";

  static final String CACHED_LINE =
      "{\"id\":\"batch_req_2\",\"custom_id\":\"request-3\",\"response\":{\"status_code\":200,"
          + "\"request_id\":\"req_2\",\"body\":{\"object\":\"chat.completion\","
          + "\"model\":\"gpt-4o-mini-2024-07-18\",\"usage\":{\"prompt_tokens\":2000,"
          + "\"completion_tokens\":100,\"total_tokens\":2100,"
          + "\"prompt_tokens_details\":{\"cached_tokens\":1024,\"audio_tokens\":0},"
          + "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}},\"error\":null}";

  static final String EXPIRED_LINE =
      "{\"id\":\"batch_req_3\",\"custom_id\":\"request-4\",\"response\":null,\"error\":{\"code\":"
          + "\"batch_expired\",\"message\":\"This request could not be executed before the"
          + " completion window expired.\"}}";

  static final String BAD_REQUEST_LINE =
      "{\"id\":\"batch_req_4\",\"custom_id\":\"request-5\",\"response\":{\"status_code\":400,"
          + "\"request_id\":\"req_4\",\"body\":{\"error\":{\"message\":\"Invalid model\","
          + "\"type\":\"invalid_request_error\",\"param\":\"model\",\"code\":null}}},"
          + "\"error\":null}";

  private static BatchResults.Summary price(String jsonl) throws IOException {
    return BatchResults.price(
        OPENAI, new StringReader(jsonl), credential(), PriceCatalogue.builtIn());
  }

  @Test
  void theDocumentedOutputLineIsPricedAtHalfTheModelsPrice() throws IOException {
    BatchResults.Summary s = price(DOCS_LINE + "\n");
    // 24 × $0.075 + 15 × $0.30 per million
    assertThat(s.costUsd()).isEqualByComparingTo("0.0000063");
    assertThat(s.succeeded()).isEqualTo(1);
    assertThat(s.byModel().get("gpt-4o-mini").inputTokens()).isEqualTo(24);
    assertThat(s.byModel().get("gpt-4o-mini").outputTokens()).isEqualTo(15);
  }

  @Test
  void cachedPromptTokensAreChargedAtTheCachedPriceAndNotTwice() throws IOException {
    BatchResults.Summary s = price(CACHED_LINE);
    // 976 × $0.075 + 1,024 × $0.0375 + 100 × $0.30 per million
    assertThat(s.costUsd()).isEqualByComparingTo("0.0001416");
    BatchResults.ModelTotals t = s.byModel().get("gpt-4o-mini-2024-07-18");
    assertThat(t.inputTokens()).isEqualTo(976);
    assertThat(t.cacheReadTokens()).isEqualTo(1024);
  }

  @Test
  void onlyStatus200LinesArePaidAndGarbageIsCountedNotFatal() throws IOException {
    String jsonl =
        DOCS_LINE
            + "\n"
            + EXPIRED_LINE
            + "\n"
            + EXPIRED_LINE.replace("batch_expired", "batch_cancelled")
            + "\n"
            + BAD_REQUEST_LINE
            + "\r\n\n"
            + "not json\n"
            + "[1,2]\n"
            + "{\"custom_id\":\"x\",\"response\":{\"status_code\":\"200\"}}\n"
            + DOCS_LINE.replace("\"prompt_tokens\": 24", "\"prompt_tokens\": -24")
            + "\n"
            + DOCS_LINE.replace("\"usage\"", "\"no_usage\"")
            + "\n"
            + DOCS_LINE;
    BatchResults.Summary s = price(jsonl);
    assertThat(s.succeeded()).isEqualTo(2);
    assertThat(s.failed()).isEqualTo(3);
    assertThat(s.unreadable()).isEqualTo(5);
    assertThat(s.costUsd()).isEqualByComparingTo("0.0000126");
  }

  @Test
  void responsesAndEmbeddingsBodiesArePricedFromTheirOwnUsage() throws IOException {
    String responses =
        "{\"id\":\"batch_req_5\",\"custom_id\":\"r\",\"response\":{\"status_code\":200,"
            + "\"request_id\":\"req_5\",\"body\":{\"object\":\"response\",\"model\":\"gpt-4o-mini\","
            + "\"usage\":{\"input_tokens\":2000,\"input_tokens_details\":{\"cached_tokens\":1024},"
            + "\"output_tokens\":100,\"output_tokens_details\":{\"reasoning_tokens\":0},"
            + "\"total_tokens\":2100}}},\"error\":null}";
    assertThat(price(responses).costUsd()).isEqualByComparingTo("0.0001416");
    String embedding =
        "{\"id\":\"batch_req_6\",\"custom_id\":\"e\",\"response\":{\"status_code\":200,"
            + "\"request_id\":\"req_6\",\"body\":{\"object\":\"list\",\"model\":\"gpt-4o-mini\","
            + "\"data\":[],\"usage\":{\"prompt_tokens\":1000,\"total_tokens\":1000}}},"
            + "\"error\":null}";
    assertThat(price(embedding).costUsd()).isEqualByComparingTo("0.000075");
  }

  @Test
  void aModelWithoutAPriceIsCountedUnpricedNeverFree() throws IOException {
    BatchResults.Summary s = price(DOCS_LINE.replace("gpt-4o-mini", "some-private-model"));
    assertThat(s.succeeded()).isEqualTo(1);
    assertThat(s.unpriced()).isEqualTo(1);
    assertThat(s.costUsd()).isEqualByComparingTo("0");
    assertThat(s.byModel().get("some-private-model").costUsd()).isNull();
  }

  @Test
  void aLineBeyondTheBoundIsSkippedAndTheNextOneRead() throws IOException {
    String huge = "{\"pad\":\"" + "x".repeat(BatchResults.MAX_LINE_CHARS) + "\"}";
    BatchResults.Summary s = price(huge + "\n" + DOCS_LINE);
    assertThat(s.unreadable()).isEqualTo(1);
    assertThat(s.succeeded()).isEqualTo(1);
  }

  @Test
  void theErrorFileIsOnlyCounted() throws IOException {
    BatchResults.Summary s =
        BatchResults.countFailed(
            new StringReader(BAD_REQUEST_LINE + "\n" + EXPIRED_LINE + "\n\nnot json\n"));
    assertThat(s.failed()).isEqualTo(2);
    assertThat(s.unreadable()).isEqualTo(1);
    assertThat(s.costUsd()).isEqualByComparingTo("0");
    assertThat(price(DOCS_LINE).plusFailed(2, 1).failed()).isEqualTo(2);
  }

  @Test
  void anUnknownApiIsRefused() {
    assertThatThrownBy(
            () ->
                BatchResults.price(
                    "gemini-batch", new StringReader(""), credential(), PriceCatalogue.builtIn()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
