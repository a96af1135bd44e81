package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.models.beta.files.BetaFileMetadata;
import com.anthropic.models.beta.files.FileUploadParams;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import dev.tollgate.sidecar.call.PassthroughCall;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.simulator.RecordedRequest;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Passthrough uploads are streamed, not held: the official SDKs upload files far larger than the
 * sidecar's request-body limit (64 KiB in the test bed) to the namespace's credential, with its
 * key; a body over the credential's {@code passthrough.maxBodyBytes} is refused 413 in the caller's
 * format before anything is sent when its length is declared, and cut off at the provider when it
 * grows past the cap while streaming.
 */
class StreamedUploadIT {
  private static final long CAP = 1024 * 1024;
  private static TestBed bed;
  private static OpenAIClient openai;
  private static AnthropicClient anthropic;

  @BeforeAll
  static void start() throws Exception {
    // a second OpenAI credential, the passthrough default, with a 1 MiB cap
    bed =
        TestBed.start(
            "",
            """
              - name: uploads
                provider: openai
                endpoint: "%1$s/v1"
                apiKeyFile: "%2$s/openai.key"
                passthrough: {default: true, maxBodyBytes: %3$d}
            """
                .formatted("%1$s", "%2$s", CAP));
    openai =
        OpenAIOkHttpClient.builder()
            .baseUrl(bed.sidecar.baseUrl() + "/v1")
            .apiKey("app-key")
            .maxRetries(0)
            .build();
    anthropic =
        AnthropicOkHttpClient.builder()
            .baseUrl(bed.sidecar.baseUrl())
            .apiKey("app-key")
            .maxRetries(0)
            .build();
  }

  @AfterAll
  static void stop() throws Exception {
    openai.close();
    anthropic.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ('a' + i % 26);
    }
    return b;
  }

  @Test
  void anOpenAiUploadFarOverTheBodyLimitStreamsToTheProvider() {
    byte[] file = bytes(900 * 1024); // 14 times the 64 KiB body limit, under the 1 MiB cap
    FileObject f =
        openai
            .files()
            .create(FileCreateParams.builder().file(file).purpose(FilePurpose.USER_DATA).build());

    assertThat(f.bytes()).isEqualTo(file.length);
    assertThat(bed.sim.storedFile(f.id())).isEqualTo(file); // the whole file went through
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1/files");
    assertThat(up.header("content-type")).startsWith("multipart/form-data");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + TestBed.OPENAI_KEY);
    assertThat(up.headers().values()).noneMatch(v -> v.contains("app-key"));
    UsageLedger.Totals t =
        bed.sidecar
            .ledger()
            .snapshot()
            .get(new UsageLedger.Key(PassthroughCall.ROUTE, "files", "uploads", ""));
    assertThat(t.requests()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void anAnthropicBetaUploadGoesToTheAnthropicCredentialWithItsBetaHeader() {
    byte[] file = bytes(300 * 1024);
    BetaFileMetadata f =
        anthropic
            .beta()
            .files()
            .upload(
                FileUploadParams.builder()
                    .file(file)
                    .addBeta(com.anthropic.models.beta.AnthropicBeta.FILES_API_2025_04_14)
                    .build());

    assertThat(f.id()).isEqualTo("file_sim");
    assertThat(f.sizeBytes()).isGreaterThan(file.length);
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.header("x-api-key")).isEqualTo(TestBed.ANTHROPIC_KEY);
    assertThat(up.header("anthropic-beta")).contains("files-api-");
    assertThat(up.header("authorization")).isNull();
  }

  @Test
  void aDeclaredBodyOverTheCapIs413BeforeAnythingIsSent() throws Exception {
    String reply =
        exchange(
            "POST /v1/files HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=b\r\n"
                + "content-length: "
                + (CAP + 1)
                + "\r\nexpect: 100-continue\r\n\r\n",
            0);
    assertThat(reply).startsWith("HTTP/1.1 413");
    JsonNode e = Json.parseOrNull(reply.substring(reply.indexOf("\r\n\r\n") + 4));
    assertThat(e.at("/error/type").asText()).isEqualTo("invalid_request_error");
    assertThat(e.at("/error/message").asText()).contains("maxBodyBytes");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void aChunkedBodyThatGrowsPastTheCapIsCutOffAtTheProvider() throws Exception {
    String reply =
        exchange(
            "POST /v1/files HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=b\r\n"
                + "transfer-encoding: chunked\r\n\r\n",
            (int) (CAP + 64 * 1024));
    assertThat(reply).startsWith("HTTP/1.1 413");
    // the head and the first MiB had gone out: the provider saw the request begin, never end
    assertThat(bed.sim.lastRequest().uri()).isEqualTo("/v1/files");
    UsageLedger.Totals t =
        bed.sidecar
            .ledger()
            .snapshot()
            .get(new UsageLedger.Key(PassthroughCall.ROUTE, "files", "uploads", ""));
    assertThat(t.errors()).containsKey(ErrorKind.TOO_LARGE);
  }

  /**
   * Sends {@code head} on a raw connection, then {@code chunked} bytes as 16 KiB chunks (never the
   * last chunk), and returns what the sidecar answers.
   */
  private static String exchange(String head, int chunked) throws Exception {
    try (Socket s = new Socket("127.0.0.1", bed.sidecar.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = bytes(16 * 1024);
      try {
        for (int sent = 0; sent < chunked; sent += chunk.length) {
          out.write(
              (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
          out.write(chunk);
          out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.flush();
      } catch (java.io.IOException closedWhileSending) {
        // the sidecar answered and closed while the body was still coming: read the answer
      }
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
