package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every provider model id that the README, the module READMEs, docs/ and examples/ name has a
 * price: in the built-in catalogue, or in the example's own ProviderCredential overrides (a local
 * Ollama model at zero). A model added to the docs without a price fails here.
 */
class DocumentedModelsPricedTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /** Provider model ids by family; what follows an id must not continue it. */
  private static final Pattern MODEL_ID =
      Pattern.compile(
          "\\b((?:us|eu|apac|global)\\.)?(?:anthropic\\.|amazon\\.|meta\\.)?"
              + "(?:gpt-[0-9][\\w.-]*|o[1-9](?:-[a-z0-9-]+)?|claude-[0-9a-z][\\w.@:-]*"
              + "|gemini-[0-9][\\w.-]*|llama-?[0-9][\\w.:-]*|mistral-[a-z][\\w-]*|codestral-[\\w-]+"
              + "|command-[ra][\\w-]*|text-embedding-[\\w-]+|nova-[a-z]+[\\w:.-]*)"
              + "(?![\\w])");

  @Test
  void everyModelTheDocsAndExamplesNameHasAPrice() throws IOException {
    Set<String> overridden = exampleOverrides();
    Set<String> notModels = new TreeSet<>();
    try (Stream<Path> dirs = Files.list(ROOT.resolve("examples"))) {
      dirs.filter(Files::isDirectory).forEach(d -> notModels.add(d.getFileName().toString()));
    }
    TreeMap<String, String> unpriced = new TreeMap<>();
    Set<String> seen = new TreeSet<>();
    for (Path file : documents()) {
      Matcher m = MODEL_ID.matcher(Files.readString(file));
      while (m.find()) {
        String id = m.group().replaceAll("[.:]+$", "");
        if (id.endsWith("-") || notModels.contains(id)) {
          continue; // an elided id ("anthropic.claude-3-haiku-…") or an example's name
        }
        seen.add(id);
        if (!overridden.contains(id) && PriceCatalogue.builtIn().lookup(id).isEmpty()) {
          unpriced.putIfAbsent(id, ROOT.relativize(file).toString());
        }
      }
    }
    // the scan must find the models the examples are built on, or it tests nothing
    assertThat(seen).contains("gpt-4o-mini", "claude-3-5-sonnet-20241022", "llama3.2:3b");
    assertThat(unpriced).as("models named in the docs without a price (model=file)").isEmpty();
  }

  private static List<Path> documents() throws IOException {
    try (Stream<Path> all = Files.walk(ROOT, 3)) {
      return all.filter(Files::isRegularFile)
          .filter(
              p -> {
                String rel = ROOT.relativize(p).toString().replace('\\', '/');
                String name = p.getFileName().toString();
                return rel.equals("README.md")
                    || rel.matches("[^/]+/README\\.md")
                    || (rel.startsWith("docs/") && name.endsWith(".md"))
                    || (rel.startsWith("examples/")
                        && (name.endsWith(".md") || name.endsWith(".yaml")));
              })
          .sorted()
          .toList();
    }
  }

  /** Models priced by a ProviderCredential of the examples (spec.pricing.models[].model). */
  private static Set<String> exampleOverrides() throws IOException {
    ObjectMapper yaml = new YAMLMapper();
    Set<String> result = new TreeSet<>();
    try (Stream<Path> all = Files.walk(ROOT.resolve("examples"))) {
      for (Path p : all.filter(f -> f.toString().endsWith(".yaml")).toList()) {
        try (var docs = yaml.readerFor(JsonNode.class).readValues(p.toFile())) {
          while (docs.hasNext()) {
            JsonNode doc = (JsonNode) docs.next();
            if (doc != null && "ProviderCredential".equals(doc.path("kind").asText())) {
              doc.path("spec")
                  .path("pricing")
                  .path("models")
                  .forEach(m -> result.add(m.path("model").asText()));
            }
          }
        }
      }
    }
    return result;
  }
}
