package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

/** Test access to the CRDs the build generated into {@code crds/}, and to their schemas. */
final class GeneratedCrds {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** The module folder; Surefire runs tests with the module as working directory. */
  static final Path CRDS_DIR = Path.of("").toAbsolutePath();

  private GeneratedCrds() {}

  static Path file(String plural) {
    return CRDS_DIR.resolve(plural + "." + ApiFormats.GROUP + ".yaml");
  }

  static CustomResourceDefinition crd(String plural) {
    try {
      return Serialization.unmarshal(
          Files.readString(file(plural)), CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new UncheckedIOException("run the build first: " + file(plural), e);
    }
  }

  /** The OpenAPI v3 schema of the CRD's only version, as a JSON-schema validator. */
  static JsonSchema schema(String plural) {
    try {
      JsonNode crd = YAML.readTree(file(plural).toFile());
      JsonNode openApi = crd.at("/spec/versions/0/schema/openAPIV3Schema");
      if (openApi.isMissingNode()) {
        throw new IllegalStateException("no openAPIV3Schema in " + file(plural));
      }
      return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(openApi);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Validation messages, one string each, for asserting on what a user would read. */
  static Set<String> violations(JsonSchema schema, JsonNode resource) {
    Set<ValidationMessage> messages = schema.validate(resource);
    return messages.stream().map(ValidationMessage::getMessage).collect(Collectors.toSet());
  }

  static JsonNode readYaml(Path path) {
    try {
      return YAML.readTree(path.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode resource(String name) {
    try (var in = GeneratedCrds.class.getResourceAsStream("/" + name)) {
      return YAML.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A JSON value as CEL for Java expects it: maps, lists, Long, Double, String, Boolean. */
  static Object toCel(JsonNode node) {
    if (node.isObject()) {
      java.util.Map<String, Object> map = new java.util.LinkedHashMap<>();
      node.fields().forEachRemaining(e -> map.put(e.getKey(), toCel(e.getValue())));
      return map;
    }
    if (node.isArray()) {
      java.util.List<Object> list = new java.util.ArrayList<>();
      node.forEach(n -> list.add(toCel(n)));
      return list;
    }
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (node.isNumber()) {
      return node.asDouble();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    if (node.isNull()) {
      return com.google.protobuf.NullValue.NULL_VALUE;
    }
    return node.asText();
  }
}
