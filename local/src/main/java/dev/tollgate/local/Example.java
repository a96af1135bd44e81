package dev.tollgate.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The objects of one example folder, by kind. */
record Example(
    List<ProviderCredential> credentials,
    List<LLMRoute> routes,
    List<Budget> budgets,
    Namespace namespaceObject,
    List<String> skipped) {

  String namespace() {
    if (routes.isEmpty()) {
      throw new LocalModeException("the example declares no LLMRoute");
    }
    return routes.get(0).getMetadata().getNamespace();
  }

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static Example load(Path dir) throws IOException {
    List<ProviderCredential> credentials = new ArrayList<>();
    List<LLMRoute> routes = new ArrayList<>();
    List<Budget> budgets = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    Namespace namespace = null;
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files =
          list.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
              .sorted()
              .toList();
    }
    for (Path file : files) {
      try (MappingIterator<JsonNode> docs =
          YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
        while (docs.hasNext()) {
          JsonNode doc = docs.next();
          if (doc == null || !doc.has("kind")) {
            continue;
          }
          String json = doc.toString();
          switch (doc.get("kind").asText()) {
            case "ProviderCredential" ->
                credentials.add(Serialization.unmarshal(json, ProviderCredential.class));
            case "LLMRoute" -> routes.add(Serialization.unmarshal(json, LLMRoute.class));
            case "Budget" -> budgets.add(Serialization.unmarshal(json, Budget.class));
            case "Namespace" -> namespace = Serialization.unmarshal(json, Namespace.class);
            default ->
                skipped.add(doc.get("kind").asText() + " " + doc.at("/metadata/name").asText());
          }
        }
      }
    }
    return new Example(credentials, routes, budgets, namespace, skipped);
  }
}
