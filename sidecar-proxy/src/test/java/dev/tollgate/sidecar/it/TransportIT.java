package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.tollgate.simulator.ProviderSimulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
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

  /**
   * The image's runtime (Java 25, {@code jvm.options} + {@code jvm-25.options}) with the production
   * logging (no {@code logback-test.xml} on the classpath): everything the process prints is one
   * JSON object per line. Java 25 itself prints plain-text {@code WARNING:} lines when Netty loads
   * its epoll library without {@code --enable-native-access}, and when Netty touches {@code
   * sun.misc.Unsafe}'s memory methods (which {@code jvm-25.options} turns back on: Netty 4.2 leaves
   * them off on Java 25 by default, at a cost in CPU per call); a log pipeline that parses the
   * sidecar's output as JSON would choke on those lines.
   */
  @Test
  void onTheImagesJava25RuntimeEveryLineItPrintsIsJson() throws Exception {
    Path java25 = java25();
    Assumptions.assumeTrue(
        java25 != null, "no Java 25 here (TOLLGATE_TEST_JAVA25 or /usr/lib/jvm/temurin-25*)");
    List<String> command = new ArrayList<>(List.of(java25.toString()));
    for (String option : ChildSidecar.options(Path.of("src/main/jvm/jvm.options"))) {
      command.add(option);
    }
    for (String option : ChildSidecar.options(Path.of("src/main/jvm/jvm-25.options"))) {
      command.add(
          option.startsWith("-Djava.library.path=")
              ? "-Djava.library.path=" + Path.of("target/native").toAbsolutePath()
              : option);
    }
    command.add(UNWRITABLE_TMP);
    String mainClasspath =
        Arrays.stream(System.getProperty("java.class.path").split(":"))
            .filter(e -> !e.endsWith("test-classes"))
            .collect(Collectors.joining(":"));
    try (ChildSidecar sidecar = ChildSidecar.start(command, mainClasspath, config, Map.of())) {
      assertAnswers(sidecar);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (countOf(sidecar.output(), "\"llm_call\"") < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      String output = sidecar.output();
      ObjectMapper json = new ObjectMapper();
      List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
      assertThat(lines).isNotEmpty();
      for (String line : lines) {
        assertThat(parsesAsObject(json, line))
            .as("a line that is not a JSON object: %s", line)
            .isTrue();
      }
      assertThat(output)
          .contains("network transport: epoll (native)")
          .contains("netty buffers: sun.misc.Unsafe");
      assertThat(countOf(output, "\"llm_call\"")).isGreaterThanOrEqualTo(2);
    }
  }

  private static boolean parsesAsObject(ObjectMapper json, String line) {
    try {
      return json.readTree(line).isObject();
    } catch (IOException e) {
      return false;
    }
  }

  private static int countOf(String text, String needle) {
    int n = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  /** Java 25: {@code TOLLGATE_TEST_JAVA25}, else a Temurin 25 under /usr/lib/jvm; null if none. */
  private static Path java25() throws IOException {
    String named = System.getenv("TOLLGATE_TEST_JAVA25");
    if (named != null && !named.isBlank()) {
      return Path.of(named);
    }
    Path jvms = Path.of("/usr/lib/jvm");
    if (!Files.isDirectory(jvms)) {
      return null;
    }
    try (var dirs = Files.list(jvms)) {
      return dirs.filter(d -> d.getFileName().toString().startsWith("temurin-25"))
          .map(d -> d.resolve("bin/java"))
          .filter(Files::isExecutable)
          .sorted()
          .findFirst()
          .orElse(null);
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
