package dev.tollgate.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/**
 * Runs the Argo CD health script the way Argo CD does (the object as the global {@code obj}, a
 * table {status, message} returned) on the status shapes the operator writes.
 */
class HealthLuaTest {
  private static final Path MODULE = Path.of("").toAbsolutePath();
  private static final Path SCRIPT = MODULE.resolve("argocd/tollgate-health.lua");
  private static final Path CM_PATCH =
      MODULE.resolve("../examples/argocd/argocd-cm-health.yaml").normalize();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void newObjectIsProgressingUntilTheOperatorObservesIt() throws IOException {
    assertThat(health("kind: LLMRoute\nmetadata: {generation: 1}\nspec: {model: m}"))
        .containsEntry("status", "Progressing");
    assertThat(
            health(
                """
                kind: LLMRoute
                metadata: {generation: 3}
                status:
                  observedGeneration: 2
                  conditions: [{type: Ready, status: "True", reason: Rendered, message: ok}]
                """))
        .containsEntry("status", "Progressing")
        .containsEntry("message", "Waiting for the Tollgate operator to observe generation 3");
  }

  @Test
  void rejectedRouteIsDegradedWithTheOperatorsMessage() throws IOException {
    Map<String, String> hs =
        health(
            """
            kind: LLMRoute
            metadata: {generation: 2}
            status:
              observedGeneration: 2
              conditions:
                - {type: Accepted, status: "False", reason: CredentialNotFound,
                   message: "spec.tiers[0].targets[0].credential: ProviderCredential groq not found"}
                - {type: Ready, status: "False", reason: NotAccepted, message: not rendered}
            """);

    assertThat(hs)
        .containsEntry("status", "Degraded")
        .containsEntry(
            "message",
            "CredentialNotFound: spec.tiers[0].targets[0].credential: ProviderCredential groq"
                + " not found");
  }

  @Test
  void readyRouteIsHealthy() throws IOException {
    assertThat(
            health(
                """
                kind: LLMRoute
                metadata: {generation: 1}
                status:
                  observedGeneration: 1
                  conditions:
                    - {type: Accepted, status: "True", reason: Valid, message: ok}
                    - {type: Ready, status: "True", reason: Rendered, message: Delivered to 3 sidecars.}
                """))
        .containsEntry("status", "Healthy")
        .containsEntry("message", "Delivered to 3 sidecars.");
  }

  @Test
  void credentialWithMissingSecretOrDeadProviderIsDegraded() throws IOException {
    assertThat(
            health(
                """
                kind: ProviderCredential
                metadata: {generation: 1}
                status:
                  observedGeneration: 1
                  conditions:
                    - {type: SecretResolved, status: "False", reason: SecretNotFound, message: Secret groq-api-key not found}
                    - {type: Ready, status: "True", reason: Rendered, message: ok}
                """))
        .containsEntry("status", "Degraded")
        .containsEntry("message", "SecretNotFound: Secret groq-api-key not found");
    assertThat(
            health(
                """
                kind: ProviderCredential
                metadata: {generation: 1}
                status:
                  observedGeneration: 1
                  overallHealth: Unavailable
                  conditions: [{type: Ready, status: "True", reason: Rendered, message: ok}]
                """))
        .containsEntry("status", "Degraded");
  }

  @Test
  void budgetPhasesMapToHealth() throws IOException {
    String budget =
        """
        kind: Budget
        metadata: {generation: 1}
        spec: {limit: "2500.00"}
        status:
          observedGeneration: 1
          phase: %s
          spent: "%s"
          percentUsed: "%s"
          conditions: [{type: Ready, status: "True", reason: Tracking, message: ok}]
        """;
    assertThat(health(budget.formatted("Warning", "1300.00", "52.0")))
        .containsEntry("status", "Healthy")
        .containsEntry("message", "Budget at 52.0% of 2500.00");
    assertThat(health(budget.formatted("Exceeded", "2501.00", "100.04")))
        .containsEntry("status", "Degraded")
        .containsEntry("message", "Budget exceeded: spent 2501.00 of 2500.00");
  }

  @Test
  void argoConfigMapPatchEmbedsTheTestedScriptForEveryKind() throws IOException {
    String script = Files.readString(SCRIPT).strip();
    JsonNode data = YAML.readTree(CM_PATCH.toFile()).get("data");

    for (String kind : new String[] {"LLMRoute", "ProviderCredential", "Budget"}) {
      assertThat(data.path("resource.customizations.health.tollgate.dev_" + kind).asText().strip())
          .as("argocd-cm health script for %s", kind)
          .isEqualTo(script);
    }
  }

  private static Map<String, String> health(String objectYaml) throws IOException {
    Globals globals = JsePlatform.standardGlobals();
    globals.set("obj", toLua(YAML.readTree(objectYaml)));
    LuaValue result = globals.load(Files.readString(SCRIPT), "tollgate-health.lua").call();
    return Map.of(
        "status", result.get("status").tojstring(), "message", result.get("message").tojstring());
  }

  /** Converts JSON to Lua values the way Argo CD's gopher-lua bridge does (arrays 1-based). */
  private static LuaValue toLua(JsonNode node) {
    if (node == null || node.isNull()) {
      return LuaValue.NIL;
    }
    if (node.isObject()) {
      LuaTable table = new LuaTable();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        table.set(field.getKey(), toLua(field.getValue()));
      }
      return table;
    }
    if (node.isArray()) {
      LuaTable table = new LuaTable();
      for (int i = 0; i < node.size(); i++) {
        table.set(i + 1, toLua(node.get(i)));
      }
      return table;
    }
    if (node.isIntegralNumber()) {
      return LuaValue.valueOf(node.asLong());
    }
    if (node.isNumber()) {
      return LuaValue.valueOf(node.asDouble());
    }
    if (node.isBoolean()) {
      return LuaValue.valueOf(node.asBoolean());
    }
    return LuaValue.valueOf(node.asText());
  }
}
