package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.RateLimitException;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * OpenAI Batch + Files through the sidecar with the official OpenAI SDK, to the simulator: the
 * uploaded JSONL's route aliases reach the provider as the route's model, the batch is admitted
 * against its route's budget at batch prices (refused 429 under Block) and handed to the next usage
 * report, and a batch of a file the sidecar does not remember is estimated from the provider's
 * copy.
 */
class OpenAiBatchIT {
  static final String ROUTES =
      """
        - model: ob
          retry: {attempts: 0}
          budget: batches
          tiers:
            - name: main
              targets: [{credential: openai, model: gpt-4o}]
      budgets:
        - {name: batches, limit: "10.00", onExceeded: Block}
      """;

  private static TestBed bed;
  private static OpenAIClient openai;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start(ROUTES);
    openai = SdkClients.openAi(bed.sidecar.baseUrl(), "app-key");
  }

  @AfterAll
  static void stop() throws Exception {
    openai.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
    bed.sidecar.ledger().batches().drain();
  }

  @AfterEach
  void noBudgetState() {
    bed.sidecar.context().budgetGate().update(new ReportReply(9, null, List.of()), Map.of());
  }

  private static String line(String id, String model) {
    return "{\"custom_id\":\""
        + id
        + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\""
        + model
        + "\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\",\"content\":\"Classify: where"
        + " is my parcel?\"}]}}\n";
  }

  private static FileObject upload(String jsonl) {
    return openai
        .files()
        .create(
            FileCreateParams.builder()
                .file(jsonl.getBytes(StandardCharsets.UTF_8))
                .purpose(FilePurpose.BATCH)
                .build());
  }

  private static Batch create(String fileId) {
    return openai
        .batches()
        .create(
            BatchCreateParams.builder()
                .inputFileId(fileId)
                .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                .completionWindow(BatchCreateParams.CompletionWindow._24H)
                .build());
  }

  private static String fourLines(String model) {
    return line("a", model) + line("b", model) + line("c", model) + line("d", model);
  }

  private static UsageReport.AdmittedBatch reported(String id) {
    List<UsageReport.AdmittedBatch> drained = bed.sidecar.ledger().batches().drain();
    assertThat(drained).extracting(UsageReport.AdmittedBatch::id).containsExactly(id);
    return drained.get(0);
  }

  @Test
  void anUploadedAliasReachesTheProviderAsTheRoutesModelAndTheBatchIsReported() {
    FileObject f = upload(fourLines("ob"));

    String stored = new String(bed.sim.storedFile(f.id()), StandardCharsets.UTF_8);
    assertThat(stored).contains("\"model\":\"gpt-4o\"").doesNotContain("\"model\":\"ob\"");
    assertThat(stored.lines()).hasSize(4);
    assertThat(bed.sim.lastRequest().header("authorization"))
        .isEqualTo("Bearer " + TestBed.OPENAI_KEY);

    Batch batch = create(f.id());
    assertThat(batch.id()).startsWith("batch_sim_");
    UsageReport.AdmittedBatch b = reported(batch.id());
    assertThat(b.api()).isEqualTo(UsageReport.AdmittedBatch.OPENAI_BATCH);
    assertThat(b.credential()).isEqualTo("openai");
    assertThat(b.items()).isEqualTo(4);
    assertThat(b.routes()).containsExactly(new UsageReport.BatchRoute("ob", "gpt-4o", "batches"));
    // each line: its body's characters / 4 in, 1000 out, at gpt-4o's batch price ($1.25/$5)
    BigDecimal usd = new BigDecimal(b.estimates().get("batches"));
    assertThat(usd).isGreaterThan(new BigDecimal("0.02")).isLessThan(new BigDecimal("0.0202"));
  }

  @Test
  void aBatchOverWhatABlockingBudgetHasLeftIsRefusedInOpenAisFormat() {
    FileObject f = upload(fourLines("ob"));
    // $0.001 of $10 left: the four lines are estimated at about $0.02
    bed.sidecar
        .context()
        .budgetGate()
        .update(
            new ReportReply(
                1,
                null,
                List.of(
                    new ReportReply.BudgetState("batches", "Warning", "Block", "0.001", "99.99"))),
            Map.of());
    long before = bed.sim.stats().requests();

    assertThatThrownBy(() -> create(f.id()))
        .isInstanceOf(RateLimitException.class)
        .hasMessageContaining("budget batches")
        .hasMessageContaining("this batch is estimated at");
    assertThat(bed.sim.stats().requests()).isEqualTo(before); // never reached OpenAI
    assertThat(bed.sidecar.ledger().batches().drain()).isEmpty();
  }

  @Test
  void aBatchOfAFileTheSidecarDoesNotRememberIsEstimatedFromTheProvidersCopy() {
    FileObject f = upload(fourLines("ob"));
    Batch first = create(f.id());
    String remembered = reported(first.id()).estimates().get("batches");

    bed.sidecar.context().openAiBatchFiles().clear(); // as after a restart
    Batch second = create(f.id());

    UsageReport.AdmittedBatch b = reported(second.id());
    assertThat(b.estimates().get("batches")).isEqualTo(remembered);
    assertThat(b.items()).isEqualTo(4);
    assertThat(b.routes()).containsExactly(new UsageReport.BatchRoute("ob", "gpt-4o", "batches"));
  }

  @Test
  void anUploadForAnotherPurposeIsHeldButGoesOnAsItCame() {
    byte[] notJsonl = "ob ob ob, not a batch\n{\"model\":\"ob\"}".getBytes(StandardCharsets.UTF_8);
    FileObject f =
        openai
            .files()
            .create(
                FileCreateParams.builder().file(notJsonl).purpose(FilePurpose.USER_DATA).build());
    assertThat(bed.sim.storedFile(f.id())).isEqualTo(notJsonl);
    assertThat(f.purpose().asString()).isEqualTo("user_data");
  }

  @Test
  void aLineThatIsNoBatchRequestIsRefusedWithItsNumber() {
    String jsonl = line("a", "ob") + "{\"custom_id\":\"b\",\"body\":{\"model\":\"ob\"}}\n";
    assertThatThrownBy(() -> upload(jsonl))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("line 2 of the batch input file");
    assertThatThrownBy(() -> upload("not json\n"))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("line 1 of the batch input file is not a JSON object");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void aLineWhoseRouteHasNoTargetAtOpenAiIsRefused() {
    // "an" runs on Anthropic: a batch at OpenAI cannot serve it, and cannot fail over
    assertThatThrownBy(() -> upload(line("a", "an")))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("line 1 of the batch input file names route 'an'")
        .hasMessageContaining("cannot fail over");
    assertThat(bed.sim.stats().requests()).isZero();
  }
}
