package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code x-kubernetes-validations} rules of a generated CRD, compiled with Google's CEL for
 * Java and evaluated the way the API server does: on the object after schema defaulting, once per
 * place the rule's schema node occurs in the object, with {@code self} bound to the value there.
 */
final class CrdRules {
  /** One rule and where it sits in the schema. */
  record Rule(
      String crd,
      String path,
      JsonNode schema,
      String expression,
      String message,
      CelAbstractSyntaxTree ast,
      long cardinality) {
    @Override
    public String toString() {
      return crd + " " + path + ": " + expression;
    }
  }

  static final CelCompiler COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .build();
  private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();

  final String crd;
  final JsonNode root;
  final List<Rule> rules = new ArrayList<>();

  private CrdRules(String crd, JsonNode root) {
    this.crd = crd;
    this.root = root;
    collect(root, "", 1);
  }

  /** The rules of {@code crds/<plural>.tollgate.dev.yaml}. */
  static CrdRules of(String plural) {
    try {
      JsonNode crd = GeneratedCrds.YAML.readTree(GeneratedCrds.file(plural).toFile());
      return of(plural, crd);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The rules of a CRD document (any file, e.g. an older copy). */
  static CrdRules of(String name, JsonNode crdDocument) {
    JsonNode schema = crdDocument.at("/spec/versions/0/schema/openAPIV3Schema");
    if (schema.isMissingNode()) {
      throw new IllegalArgumentException("no openAPIV3Schema in " + name);
    }
    return new CrdRules(name, schema);
  }

  private void collect(JsonNode schema, String path, long cardinality) {
    for (JsonNode v : schema.path("x-kubernetes-validations")) {
      String expression = v.path("rule").asText();
      CelValidationResult compiled = COMPILER.compile(expression);
      if (compiled.hasError()) {
        throw new IllegalStateException(
            crd + " " + path + ": rule does not compile: " + compiled.getErrorString());
      }
      try {
        rules.add(
            new Rule(
                crd,
                path.isEmpty() ? "<root>" : path,
                schema,
                expression,
                v.path("message").asText(""),
                compiled.getAst(),
                cardinality));
      } catch (CelValidationException e) {
        throw new IllegalStateException(e);
      }
    }
    Iterator<Map.Entry<String, JsonNode>> props = schema.path("properties").fields();
    while (props.hasNext()) {
      Map.Entry<String, JsonNode> p = props.next();
      collect(p.getValue(), path.isEmpty() ? p.getKey() : path + "." + p.getKey(), cardinality);
    }
    if (schema.has("items")) {
      collect(
          schema.get("items"),
          path + "[*]",
          CelCost.multiply(cardinality, CelCost.maxItems(schema)));
    }
    if (schema.path("additionalProperties").isObject()) {
      collect(
          schema.get("additionalProperties"),
          path + "[*]",
          CelCost.multiply(cardinality, CelCost.maxProperties(schema)));
    }
  }

  /**
   * What the API server would answer for this object: one line per rule that evaluated to false
   * ({@code path: message}) or failed to evaluate ({@code path: rule: error}); empty when valid.
   */
  List<String> violations(JsonNode object) {
    JsonNode defaulted = applyDefaults(object.deepCopy(), root);
    List<String> out = new ArrayList<>();
    check(defaulted, root, "", out);
    return out;
  }

  private void check(JsonNode value, JsonNode schema, String path, List<String> out) {
    if (value == null || value.isNull() || value.isMissingNode()) {
      return;
    }
    for (Rule rule : rules) {
      if (rule.schema() != schema) {
        continue;
      }
      String where = path.isEmpty() ? "<root>" : path;
      try {
        Object result =
            RUNTIME.createProgram(rule.ast()).eval(Map.of("self", GeneratedCrds.toCel(value)));
        if (!Boolean.TRUE.equals(result)) {
          out.add(where + ": " + rule.message());
        }
      } catch (CelEvaluationException e) {
        out.add(where + ": " + rule.expression() + ": " + e.getMessage());
      }
    }
    if (value.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        JsonNode child = schema.path("properties").get(f.getKey());
        if (child == null && schema.path("additionalProperties").isObject()) {
          child = schema.get("additionalProperties");
        }
        if (child != null) {
          check(f.getValue(), child, path.isEmpty() ? f.getKey() : path + "." + f.getKey(), out);
        }
      }
    } else if (value.isArray() && schema.has("items")) {
      for (int i = 0; i < value.size(); i++) {
        check(value.get(i), schema.get("items"), path + "[" + i + "]", out);
      }
    }
  }

  /** Schema defaulting as the API server applies it before validation. */
  static JsonNode applyDefaults(JsonNode value, JsonNode schema) {
    if (value instanceof ObjectNode object) {
      Map<String, JsonNode> props = new LinkedHashMap<>();
      schema.path("properties").fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue()));
      for (Map.Entry<String, JsonNode> p : props.entrySet()) {
        if (!object.has(p.getKey()) && p.getValue().has("default")) {
          object.set(p.getKey(), p.getValue().get("default").deepCopy());
        }
        if (object.has(p.getKey())) {
          applyDefaults(object.get(p.getKey()), p.getValue());
        }
      }
    } else if (value != null && value.isArray() && schema.has("items")) {
      value.forEach(item -> applyDefaults(item, schema.get("items")));
    }
    return value;
  }
}
