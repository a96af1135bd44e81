package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.anthropic.client.AnthropicClient;
import com.anthropic.core.http.HttpResponse;
import com.anthropic.errors.NotFoundException;
import com.anthropic.models.beta.AnthropicBeta;
import com.anthropic.models.beta.files.BetaDeletedFile;
import com.anthropic.models.beta.files.BetaFileMetadata;
import com.anthropic.models.beta.files.FileDeleteParams;
import com.anthropic.models.beta.files.FileDownloadParams;
import com.anthropic.models.beta.files.FileListParams;
import com.anthropic.models.beta.files.FileRetrieveMetadataParams;
import com.anthropic.models.models.ModelInfo;
import com.openai.client.OpenAIClient;
import dev.tollgate.simulator.RecordedRequest;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Anthropic SDK's calls on paths OpenAI uses too ({@code /v1/files}, {@code /v1/models}) are
 * told apart by the {@code anthropic-version} header every Anthropic SDK sends: they reach the
 * namespace's Anthropic credential with its {@code x-api-key}, or are answered in Anthropic's
 * shape, while the OpenAI SDK's calls on the same paths keep going to OpenAI.
 */
class AnthropicSharedPathsIT {
  private static final String APP_KEY = "app-key-never-forwarded";
  private static TestBed bed;
  private static AnthropicClient anthropic;
  private static OpenAIClient openai;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
    anthropic = SdkClients.anthropic(bed.sidecar.baseUrl(), APP_KEY);
    openai = SdkClients.openAi(bed.sidecar.baseUrl(), APP_KEY);
  }

  @AfterAll
  static void stop() throws Exception {
    anthropic.close();
    openai.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static void atAnthropic(RecordedRequest up) {
    assertThat(up.header("x-api-key")).isEqualTo(TestBed.ANTHROPIC_KEY);
    assertThat(up.header("authorization")).isNull();
    assertThat(up.headers().values()).noneMatch(v -> v.contains(APP_KEY));
  }

  @Test
  void modelsAreListedAndRetrievedInAnthropicsShape() {
    // the list is the namespace's routes, in Anthropic's shape
    var page = anthropic.models().list();
    assertThat(page.data()).extracting(ModelInfo::id).contains("an", "oa");
    assertThat(bed.sim.stats().requests()).isZero();

    // a route alias is answered here; a provider model goes to the Anthropic credential
    assertThat(anthropic.models().retrieve("an").id()).isEqualTo("an");
    ModelInfo claude = anthropic.models().retrieve("claude-sonnet-4-20250514");
    assertThat(claude.displayName()).isEqualTo("claude-sonnet-4-20250514");
    assertThat(bed.sim.lastRequest().uri()).isEqualTo("/v1/models/claude-sonnet-4-20250514");
    atAnthropic(bed.sim.lastRequest());

    // Anthropic's own 404 comes back unchanged, in its shape
    assertThatThrownBy(() -> anthropic.models().retrieve("claude-none"))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("not_found_error");
  }

  @Test
  void betaFilesAreListedReadDownloadedAndDeletedAtAnthropic() throws Exception {
    var list =
        anthropic
            .beta()
            .files()
            .list(FileListParams.builder().addBeta(AnthropicBeta.FILES_API_2025_04_14).build());
    assertThat(list.data()).extracting(BetaFileMetadata::id).containsExactly("file_sim");
    atAnthropic(bed.sim.lastRequest());
    assertThat(bed.sim.lastRequest().header("anthropic-beta")).contains("files-api-2025-04-14");

    BetaFileMetadata meta =
        anthropic
            .beta()
            .files()
            .retrieveMetadata(
                FileRetrieveMetadataParams.builder()
                    .fileId("file_abc")
                    .addBeta(AnthropicBeta.FILES_API_2025_04_14)
                    .build());
    assertThat(meta.id()).isEqualTo("file_abc");

    try (HttpResponse r =
            anthropic
                .beta()
                .files()
                .download(
                    FileDownloadParams.builder()
                        .fileId("file_abc")
                        .addBeta(AnthropicBeta.FILES_API_2025_04_14)
                        .build());
        InputStream body = r.body()) {
      assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo("simulated file file_abc");
    }
    assertThat(bed.sim.lastRequest().uri()).isEqualTo("/v1/files/file_abc/content");
    atAnthropic(bed.sim.lastRequest());

    BetaDeletedFile gone =
        anthropic
            .beta()
            .files()
            .delete(
                FileDeleteParams.builder()
                    .fileId("file_abc")
                    .addBeta(AnthropicBeta.FILES_API_2025_04_14)
                    .build());
    assertThat(gone.id()).isEqualTo("file_abc");
    assertThat(bed.sim.lastRequest().method()).isEqualTo("DELETE");
    atAnthropic(bed.sim.lastRequest());
  }

  @Test
  void theOpenAiSdkOnTheSamePathsStillReachesOpenAi() {
    assertThat(openai.files().list().data()).isEmpty();
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.header("authorization")).isEqualTo("Bearer " + TestBed.OPENAI_KEY);
    assertThat(up.header("x-api-key")).isNull();
    assertThat(openai.models().retrieve("gpt-4o").ownedBy()).isEqualTo("simulator");
  }
}
