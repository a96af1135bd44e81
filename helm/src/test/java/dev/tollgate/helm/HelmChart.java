package dev.tollgate.helm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/** Runs the real helm binary on {@code helm/tollgate} and parses what it renders. */
final class HelmChart {
  static final Path CHART = Path.of("").toAbsolutePath().resolve("tollgate");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private HelmChart() {}

  /** Result of one helm invocation. */
  record Run(int exitCode, String output) {}

  static Run helm(String... args) throws IOException, InterruptedException {
    String binary =
        Objects.requireNonNull(
            System.getProperty("helm.binary"),
            "system property helm.binary is not set: run the tests through Maven");
    List<String> command = new ArrayList<>(List.of(binary));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("helm did not finish: " + command);
    }
    return new Run(process.exitValue(), new String(output, StandardCharsets.UTF_8));
  }

  /** {@code helm template} in namespace {@code tollgate-system}; fails on a non-zero exit. */
  static Manifests template(String... extraArgs) throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(List.of("template", "tg", CHART.toString(), "-n", "tollgate-system"));
    args.addAll(List.of(extraArgs));
    Run run = helm(args.toArray(String[]::new));
    if (run.exitCode() != 0) {
      throw new AssertionError("helm template failed:\n" + run.output());
    }
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(run.output())) {
      while (it.hasNext()) {
        JsonNode doc = it.next();
        if (doc != null && doc.has("kind")) {
          docs.add(doc);
        }
      }
    }
    return new Manifests(docs);
  }

  static String fullValues() {
    return Path.of("src/test/resources/values-full.yaml").toAbsolutePath().toString();
  }

  static String read(Path path) throws IOException {
    return Files.readString(path);
  }

  /** Rendered objects, looked up by kind and name suffix. */
  record Manifests(List<JsonNode> docs) {
    List<String> kinds() {
      return docs.stream().map(d -> d.get("kind").asText()).sorted().toList();
    }

    JsonNode one(String kind) {
      List<JsonNode> matches =
          docs.stream().filter(d -> kind.equals(d.get("kind").asText())).toList();
      if (matches.size() != 1) {
        throw new AssertionError("expected one " + kind + ", found " + matches.size());
      }
      return matches.get(0);
    }

    JsonNode named(String kind, String nameSuffix) {
      return docs.stream()
          .filter(d -> kind.equals(d.get("kind").asText()))
          .filter(d -> d.at("/metadata/name").asText().endsWith(nameSuffix))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no " + kind + " named *" + nameSuffix));
    }
  }
}
