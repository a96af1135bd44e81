package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.tollgate.simulator.ProviderSimulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The network transport of a sidecar in a child JVM, started as the image starts it: a {@code
 * java.io.tmpdir} nothing can be written to (the injected pod's root filesystem is read-only and
 * nothing is mounted at {@code /tmp}) and the epoll library in {@code java.library.path} (the
 * image's {@code /opt/tollgate/native}; here {@code target/native}, unpacked by the build). Each
 * sidecar answers an OpenAI SDK call, whole and streamed, on the transport its log line names.
 */
class TransportIT {
  /**
   * A directory where not even root can create a file (sysfs), as {@code /tmp} is on the pod's
   * read-only root filesystem: Netty takes it as its work directory and fails to extract there.
   */
  private static final String UNWRITABLE_TMP = "-Djava.io.tmpdir=/sys";

  private static ProviderSimulator sim;
  private static Path config;

  @BeforeAll
  static void start() throws Exception {
    sim = ProviderSimulator.start();
    Path dir = Files.createTempDirectory("tollgate-transport-it");
    Files.writeString(dir.resolve("openai.key"), "sk-openai-test");
    config = dir.resolve("config.yaml");
    Files.writeString(
        config,
        """
        namespace: it
        routes:
          - model: oa
            tiers:
              - name: main
                targets: [{credential: openai, model: gpt-4o-mini}]
        credentials:
          - {name: openai, provider: openai, endpoint: "%s/v1", apiKeyFile: "%s/openai.key"}
        """
            .formatted(sim.baseUrl(), dir));
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @Test
  void theImageLoadsEpollFromTheLibraryPathWithoutWritingToTmp() throws Exception {
    try (ChildSidecar sidecar =
        ChildSidecar.start(
            config,
            infoLog(),
            List.of(
                UNWRITABLE_TMP,
                "-Djava.library.path=" + Path.of("target/native").toAbsolutePath()))) {
      assertAnswers(sidecar);
      assertThat(sidecar.output()).contains("network transport: epoll (native)");
    }
  }

  @Test
  void withoutTheLibraryPathAndNoWritableTmpTheSidecarFallsBackToNioAndSaysWhy() throws Exception {
    try (ChildSidecar sidecar = ChildSidecar.start(config, infoLog(), List.of(UNWRITABLE_TMP))) {
      assertAnswers(sidecar);
      assertThat(sidecar.output())
          .contains("network transport: nio (native epoll unavailable: ")
          .doesNotContain("network transport: epoll");
    }
  }

  @Test
  void nioCanBeForced() throws Exception {
    try (ChildSidecar sidecar = ChildSidecar.start(config, infoLog("TOLLGATE_TRANSPORT", "nio"))) {
      assertAnswers(sidecar);
      assertThat(sidecar.output())
          .contains("network transport: nio (TOLLGATE_TRANSPORT=nio)")
          .doesNotContain("network transport: epoll");
    }
  }

  @Test
  void epollCanBeRequiredAndServesByDefaultHere() throws Exception {
    try (ChildSidecar sidecar =
        ChildSidecar.start(config, infoLog("TOLLGATE_TRANSPORT", "epoll"))) {
      assertAnswers(sidecar);
      assertThat(sidecar.output()).contains("network transport: epoll (native)");
    }
  }

  /** The tests' logback configuration prints the sidecar's INFO lines with this. */
  private static Map<String, String> infoLog(String... keyValues) {
    Map<String, String> env = new java.util.HashMap<>(Map.of("TOLLGATE_TEST_LOG_LEVEL", "INFO"));
    for (int i = 0; i < keyValues.length; i += 2) {
      env.put(keyValues[i], keyValues[i + 1]);
    }
    return env;
  }

  private static void assertAnswers(ChildSidecar sidecar) throws Exception {
    OpenAIClient client = SdkClients.openAi(sidecar.baseUrl(), "app-key-ignored");
    ChatCompletionCreateParams params =
        ChatCompletionCreateParams.builder()
            .model("oa")
            .addUserMessage("Say something.")
            .maxTokens(20)
            .build();
    ChatCompletion whole = client.chat().completions().create(params);
    assertThat(whole.choices().get(0).message().content()).isPresent();
    StringBuilder text = new StringBuilder();
    try (StreamResponse<ChatCompletionChunk> s =
        client.chat().completions().createStreaming(params)) {
      s.stream()
          .forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
    }
    assertThat(text).isNotEmpty();
  }
}
