package dev.tollgate.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.networknt.schema.JsonSchema;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every Tollgate object in {@code examples/} validates against the generated CRD schemas. */
class ExamplesAreValidTest {
  private static final Path EXAMPLES = GeneratedCrds.CRDS_DIR.resolve("../examples").normalize();
  private static final Map<String, JsonSchema> SCHEMAS =
      Map.of(
          "LLMRoute", GeneratedCrds.schema("llmroutes"),
          "ProviderCredential", GeneratedCrds.schema("providercredentials"),
          "Budget", GeneratedCrds.schema("budgets"));

  @Test
  void everyExampleObjectIsValid() throws IOException {
    List<String> problems = new ArrayList<>();
    int checked = 0;
    for (Path file : yamlFiles()) {
      for (JsonNode doc : documents(file)) {
        if (doc == null || !doc.path("apiVersion").asText().startsWith(ApiFormats.GROUP + "/")) {
          continue;
        }
        JsonSchema schema = SCHEMAS.get(doc.path("kind").asText());
        if (schema == null) {
          problems.add(file + ": unknown Tollgate kind " + doc.path("kind").asText());
          continue;
        }
        checked++;
        GeneratedCrds.violations(schema, doc)
            .forEach(v -> problems.add(file + " " + doc.at("/metadata/name").asText() + ": " + v));
      }
    }

    assertThat(problems).isEmpty();
    assertThat(checked).as("Tollgate objects found under %s", EXAMPLES).isGreaterThanOrEqualTo(3);
  }

  private static List<Path> yamlFiles() throws IOException {
    try (Stream<Path> files = Files.walk(EXAMPLES)) {
      return files
          .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted()
          .toList();
    }
  }

  private static List<JsonNode> documents(Path file) throws IOException {
    try (MappingIterator<JsonNode> it =
        GeneratedCrds.YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      return it.readAll();
    }
  }
}
