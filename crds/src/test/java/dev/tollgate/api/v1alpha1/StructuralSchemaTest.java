package dev.tollgate.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The API server accepts only structural schemas in apiextensions.k8s.io/v1 CRDs (Kubernetes docs,
 * "Specifying a structural schema"), and only defaults that are valid for their field. This checks
 * the generated CRDs for both.
 */
class StructuralSchemaTest {
  private static final Set<String> TYPES =
      Set.of("object", "array", "string", "integer", "number", "boolean");
  private static final Set<String> NOT_IN_JUNCTORS =
      Set.of(
          "type",
          "additionalProperties",
          "default",
          "nullable",
          "description",
          "x-kubernetes-preserve-unknown-fields",
          "x-kubernetes-int-or-string",
          "x-kubernetes-embedded-resource");

  @ParameterizedTest
  @ValueSource(strings = {"llmroutes", "providercredentials", "budgets"})
  void generatedSchemaIsStructural(String plural) throws Exception {
    JsonNode root =
        GeneratedCrds.YAML
            .readTree(GeneratedCrds.file(plural).toFile())
            .at("/spec/versions/0/schema/openAPIV3Schema");
    List<String> problems = new ArrayList<>();

    check(root, "openAPIV3Schema", problems);
    JsonNode metadata = root.path("properties").path("metadata");
    metadata
        .path("properties")
        .fieldNames()
        .forEachRemaining(
            f -> {
              if (!f.equals("name") && !f.equals("generateName")) {
                problems.add("metadata." + f + ": only name and generateName may be restricted");
              }
            });

    assertThat(problems).isEmpty();
  }

  private static void check(JsonNode s, String path, List<String> problems) {
    boolean open =
        s.path("x-kubernetes-int-or-string").asBoolean()
            || s.path("x-kubernetes-preserve-unknown-fields").asBoolean();
    String type = s.path("type").asText("");
    if (!open && !TYPES.contains(type)) {
      problems.add(path + ": no type (every node of a structural schema needs one)");
    }
    if (s.has("properties") && s.has("additionalProperties")) {
      problems.add(path + ": properties and additionalProperties together");
    }
    if (s.path("additionalProperties").isBoolean()) {
      problems.add(path + ": additionalProperties must be a schema, not a boolean");
    }
    if (type.equals("array") && !s.has("items") && !open) {
      problems.add(path + ": array without items");
    }
    if (s.has("default")) {
      JsonNode d = s.get("default");
      if (s.has("enum") && !contains(s.get("enum"), d)) {
        problems.add(path + ": default " + d + " is not one of " + s.get("enum"));
      }
      if (type.equals("string") && !d.isTextual()
          || type.equals("integer") && !d.isIntegralNumber()
          || type.equals("boolean") && !d.isBoolean()) {
        problems.add(path + ": default " + d + " is not a " + type);
      }
    }
    if ("map".equals(s.path("x-kubernetes-list-type").asText(null))) {
      JsonNode items = s.path("items");
      for (JsonNode key : s.path("x-kubernetes-list-map-keys")) {
        boolean required = contains(items.path("required"), key);
        boolean defaulted = items.path("properties").path(key.asText()).has("default");
        if (!required && !defaulted) {
          problems.add(path + ": list map key " + key + " must be required or defaulted");
        }
      }
    }
    for (String junctor : List.of("allOf", "anyOf", "oneOf", "not")) {
      for (JsonNode branch :
          s.path(junctor).isArray() ? s.get(junctor) : List.of(s.path(junctor))) {
        branch
            .fieldNames()
            .forEachRemaining(
                f -> {
                  if (NOT_IN_JUNCTORS.contains(f)) {
                    problems.add(
                        path + "." + junctor + ": " + f + " is not allowed inside " + junctor);
                  }
                });
      }
    }
    Iterator<Map.Entry<String, JsonNode>> props = s.path("properties").fields();
    while (props.hasNext()) {
      Map.Entry<String, JsonNode> p = props.next();
      check(p.getValue(), path + "." + p.getKey(), problems);
    }
    if (s.has("items")) {
      check(s.get("items"), path + "[*]", problems);
    }
    if (s.path("additionalProperties").isObject()) {
      check(s.get("additionalProperties"), path + "{*}", problems);
    }
  }

  private static boolean contains(JsonNode array, JsonNode value) {
    for (JsonNode v : array) {
      if (v.equals(value)) {
        return true;
      }
    }
    return false;
  }
}
