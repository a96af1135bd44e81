package dev.tollgate.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Images cannot be built or pushed here (no container engine), so the build checks what it can:
 * each Dockerfile copies the jar its module's build produces and the JVM options that exist, runs
 * as a non-root user, and starts the jar.
 */
class ContainerImageTest {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  private static final Pattern COPY = Pattern.compile("(?m)^COPY\\s+(\\S+)\\s+(\\S+)$");

  @ParameterizedTest
  @CsvSource({"operator, tollgate-operator.jar", "sidecar-proxy, tollgate-sidecar.jar"})
  void dockerfileMatchesTheBuild(String module, String jar) throws IOException {
    Path moduleDir = ROOT.resolve(module);
    // continuation lines joined, as docker reads them
    String dockerfile =
        Files.readString(moduleDir.resolve("Dockerfile")).replaceAll("\\\\\n\\s*", "");
    String pom = Files.readString(moduleDir.resolve("pom.xml"));

    assertThat(pom)
        .as("the shade plugin's finalName is the jar the Dockerfile copies")
        .contains("<finalName>" + jar.replace(".jar", "") + "</finalName>");
    Matcher copies = COPY.matcher(dockerfile);
    int count = 0;
    while (copies.find()) {
      count++;
      String source = copies.group(1);
      if (!source.startsWith("target/")) {
        assertThat(moduleDir.resolve(source)).as("COPY source %s", source).isRegularFile();
      } else if (source.equals("target/native/")) {
        // the sidecar's epoll library: unpacked by its build, on the image's java.library.path
        assertThat(pom)
            .as("the build unpacks the native libraries the Dockerfile copies")
            .contains("<outputDirectory>${project.build.directory}/native</outputDirectory>");
        String dir = copies.group(2).replaceAll("/$", "");
        assertThat(Files.readString(moduleDir.resolve("src/main/jvm/jvm-25.options")))
            .as("the image's JVM options load native libraries from %s", dir)
            .containsPattern("(?m)^-Djava\\.library\\.path=" + Pattern.quote(dir) + "$");
      } else {
        assertThat(source).isEqualTo("target/" + jar);
      }
    }
    assertThat(count).isGreaterThanOrEqualTo(2);
    assertThat(dockerfile).containsPattern("(?m)^FROM \\S+:nonroot$");
    assertThat(dockerfile).containsPattern("(?m)^USER 65532:65532$");
    List<String> entrypoint = dockerfile.lines().filter(l -> l.startsWith("ENTRYPOINT")).toList();
    assertThat(entrypoint).singleElement().asString().contains("/opt/tollgate/" + jar);
    Matcher optionFiles = Pattern.compile("\"@(/opt/tollgate/[^\"]+)\"").matcher(entrypoint.get(0));
    while (optionFiles.find()) {
      assertThat(dockerfile)
          .as("the JVM options file %s is copied into the image", optionFiles.group(1))
          .containsPattern("(?m)^COPY\\s+\\S+\\s+" + Pattern.quote(optionFiles.group(1)) + "$");
    }
  }

  /**
   * The sidecar starts from an AOT cache written by a training run at build time: the run uses the
   * same options and jar as the ENTRYPOINT (the JVM refuses a cache made otherwise) and writes the
   * file the ENTRYPOINT reads.
   */
  @org.junit.jupiter.api.Test
  void sidecarTrainsItsAotCacheWithTheEntrypointsOptions() throws IOException {
    String dockerfile =
        Files.readString(ROOT.resolve("sidecar-proxy/Dockerfile")).replaceAll("\\\\\n\\s*", "");
    String run = dockerfile.lines().filter(l -> l.startsWith("RUN")).findFirst().orElseThrow();
    String entrypoint =
        dockerfile.lines().filter(l -> l.startsWith("ENTRYPOINT")).findFirst().orElseThrow();
    assertThat(run)
        .contains("\"--train\"")
        .contains("\"-XX:AOTCacheOutput=/opt/tollgate/tollgate.aot\"");
    assertThat(entrypoint).contains("\"-XX:AOTCache=/opt/tollgate/tollgate.aot\"");
    assertThat(
            run.replace("\"-XX:AOTCacheOutput=/opt/tollgate/tollgate.aot\", ", "")
                .replace(", \"--train\"", ""))
        .as(
            "the training run's command is the ENTRYPOINT's, with the cache written instead of read")
        .endsWith(
            entrypoint
                .substring("ENTRYPOINT [".length())
                .replace("\"-XX:AOTCache=/opt/tollgate/tollgate.aot\", ", ""));
  }
}
