package dev.tollgate.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every {@code x-kubernetes-validations} rule of the generated CRDs, compiled and evaluated with
 * Google's CEL for Java on the defaulted object, as the API server does: the examples pass, and
 * each invalid object is rejected with its rule's message.
 */
class CelRulesTest {
  private static final Map<String, CrdRules> RULES =
      Map.of(
          "LLMRoute", CrdRules.of("llmroutes"),
          "ProviderCredential", CrdRules.of("providercredentials"),
          "Budget", CrdRules.of("budgets"));

  @Test
  void everyExampleObjectPassesEveryRule() throws IOException {
    List<String> problems = new ArrayList<>();
    Set<String> kinds = new HashSet<>();
    Path examples = GeneratedCrds.CRDS_DIR.resolve("../examples").normalize();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(examples)) {
      files = walk.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    for (Path file : files) {
      try (MappingIterator<JsonNode> docs =
          GeneratedCrds.YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
        for (JsonNode doc : docs.readAll()) {
          CrdRules rules = doc == null ? null : RULES.get(doc.path("kind").asText());
          if (rules == null || !doc.path("apiVersion").asText().startsWith(ApiFormats.GROUP)) {
            continue;
          }
          kinds.add(doc.path("kind").asText());
          rules.violations(doc).forEach(v -> problems.add(file + ": " + v));
        }
      }
    }
    assertThat(problems).isEmpty();
    assertThat(kinds).containsExactlyInAnyOrder("LLMRoute", "ProviderCredential", "Budget");
  }

  @Test
  void fullTestResourcesPassEveryRule() {
    assertThat(RULES.get("LLMRoute").violations(GeneratedCrds.resource("full-llmroute.yaml")))
        .isEmpty();
    assertThat(
            RULES
                .get("ProviderCredential")
                .violations(GeneratedCrds.resource("full-providercredential.yaml")))
        .isEmpty();
    assertThat(RULES.get("Budget").violations(GeneratedCrds.resource("full-budget.yaml")))
        .isEmpty();
  }

  @Test
  void everyRuleIsExercisedByAnInvalidObject() {
    // a new rule must come with an invalid object in invalidObjects() that it rejects
    Set<String> ruleMessages = new HashSet<>();
    RULES.values().forEach(r -> r.rules.forEach(rule -> ruleMessages.add(rule.message())));
    Set<String> rejectedWith = new HashSet<>();
    for (Map.Entry<JsonNode, String> invalid : invalidObjects().entrySet()) {
      List<String> violations =
          RULES.get(invalid.getKey().path("kind").asText()).violations(invalid.getKey());
      assertThat(violations).as("%s", invalid.getKey()).hasSize(1);
      assertThat(violations.get(0)).endsWith(": " + invalid.getValue());
      rejectedWith.add(invalid.getValue());
    }

    assertThat(rejectedWith).isEqualTo(ruleMessages);
  }

  /** One invalid object per rule, with the message the API server would answer. */
  private static Map<JsonNode, String> invalidObjects() {
    Map<JsonNode, String> invalid = new java.util.LinkedHashMap<>();
    invalid.put(
        budget("limit: \"100\"\n  onExceeded: Downgrade"),
        "downgrade is required when onExceeded is Downgrade");
    invalid.put(
        budget("limit: \"100\"\n  alerts: [50, 0]"),
        "alert thresholds are percentages from 1 to 100");
    invalid.put(
        budget(
            "limit: \"100\"\n  onExceeded: Downgrade\n  downgrade:\n    tier: simple\n"
                + "    target: {credential: groq, model: llama}"),
        "name exactly one of downgrade.tier and downgrade.target");
    invalid.put(
        yaml(
            """
            apiVersion: tollgate.dev/v1alpha1
            kind: LLMRoute
            metadata: {name: r, namespace: ns}
            spec:
              model: chat
              tiers:
                - {name: simple, targets: [{credential: groq, model: llama}]}
                - {name: simple, targets: [{credential: groq, model: llama}]}
            """),
        "tier names must be unique within a route");
    invalid.put(
        yaml(
            """
            apiVersion: tollgate.dev/v1alpha1
            kind: LLMRoute
            metadata: {name: r, namespace: ns}
            spec:
              model: chat
              rateLimit: {maxQueue: 10, maxQueueWait: 5s}
              tiers:
                - {name: simple, targets: [{credential: groq, model: llama}]}
            """),
        "maxQueue needs maxInFlight");
    invalid.put(
        credential("provider: openai"),
        "secretRef is required for every provider except ollama, unless auth uses an identity");
    invalid.put(
        credential("provider: openai\n  auth: {type: awsIam}"),
        "auth.type awsIam is for bedrock, gcpWorkloadIdentity for vertex-ai,"
            + " azureWorkloadIdentity for azure-openai");
    invalid.put(
        credential("provider: openai-compatible\n  " + KEY),
        "endpoint is required for ollama, openai-compatible and azure-openai");
    invalid.put(
        credential("provider: bedrock\n  " + KEY),
        "bedrock.region is required when provider is bedrock");
    invalid.put(
        credential("provider: vertex-ai\n  " + KEY),
        "vertex.project and vertex.location are required when provider is vertex-ai");
    invalid.put(
        credential("provider: azure-openai\n  endpoint: https://x.example\n  " + KEY),
        "azure.deployment is required when provider is azure-openai");
    return invalid;
  }

  @Test
  void minimalBudgetIsValidBecauseOnExceededDefaultsToBlock() {
    JsonNode budget = budget("limit: \"100\"");

    assertThat(RULES.get("Budget").violations(budget)).isEmpty();
  }

  @Test
  void downgradeWithoutTargetIsRejected() {
    assertThat(RULES.get("Budget").violations(budget("limit: \"100\"\n  onExceeded: Downgrade")))
        .containsExactly("spec: downgrade is required when onExceeded is Downgrade");
  }

  @Test
  void alertThresholdOutOfRangeIsRejected() {
    assertThat(RULES.get("Budget").violations(budget("limit: \"100\"\n  alerts: [50, 0]")))
        .containsExactly("spec: alert thresholds are percentages from 1 to 100");
  }

  @Test
  void downgradeNamingBothTierAndTargetIsRejected() {
    JsonNode budget =
        budget(
            "limit: \"100\"\n  onExceeded: Downgrade\n  downgrade:\n    tier: simple\n"
                + "    target: {credential: groq, model: llama}");

    assertThat(RULES.get("Budget").violations(budget))
        .containsExactly("spec.downgrade: name exactly one of downgrade.tier and downgrade.target");
  }

  @Test
  void duplicateTierNamesAreRejected() {
    JsonNode route =
        yaml(
            """
            apiVersion: tollgate.dev/v1alpha1
            kind: LLMRoute
            metadata: {name: r, namespace: ns}
            spec:
              model: chat
              tiers:
                - {name: simple, targets: [{credential: groq, model: llama}]}
                - {name: simple, targets: [{credential: groq, model: llama}]}
            """);

    assertThat(RULES.get("LLMRoute").violations(route))
        .containsExactly("spec: tier names must be unique within a route");
  }

  @Test
  void credentialRulesRejectWhatEachProviderLacks() {
    CrdRules rules = RULES.get("ProviderCredential");

    assertThat(rules.violations(credential("provider: openai")))
        .containsExactly(
            "spec: secretRef is required for every provider except ollama, unless auth uses an"
                + " identity");
    assertThat(
            rules.violations(
                credential(
                    "provider: bedrock\n  auth: {type: awsIam}\n  bedrock: {region: us-east-1}")))
        .as("an identity credential needs no secretRef")
        .isEmpty();
    assertThat(rules.violations(credential("provider: ollama")))
        .hasSize(1)
        .first()
        .asString()
        .contains("endpoint is required");
    assertThat(rules.violations(credential("provider: openai-compatible\n  " + KEY)))
        .containsExactly(
            "spec: endpoint is required for ollama, openai-compatible and azure-openai");
    assertThat(rules.violations(credential("provider: bedrock\n  " + KEY)))
        .containsExactly("spec: bedrock.region is required when provider is bedrock");
    assertThat(rules.violations(credential("provider: vertex-ai\n  " + KEY)))
        .containsExactly(
            "spec: vertex.project and vertex.location are required when provider is vertex-ai");
    assertThat(
            rules.violations(
                credential("provider: azure-openai\n  endpoint: https://x.example\n  " + KEY)))
        .containsExactly("spec: azure.deployment is required when provider is azure-openai");
    assertThat(rules.violations(credential("provider: ollama\n  endpoint: http://ollama:11434")))
        .isEmpty();
  }

  private static final String KEY = "secretRef: {name: k, key: api-key}";

  private static JsonNode budget(String spec) {
    return yaml(
        "apiVersion: tollgate.dev/v1alpha1\nkind: Budget\nmetadata: {name: b, namespace: ns}\n"
            + "spec:\n  "
            + spec
            + "\n");
  }

  private static JsonNode credential(String spec) {
    return yaml(
        "apiVersion: tollgate.dev/v1alpha1\nkind: ProviderCredential\n"
            + "metadata: {name: c, namespace: ns}\nspec:\n  "
            + spec
            + "\n");
  }

  private static JsonNode yaml(String text) {
    try {
      return GeneratedCrds.YAML.readTree(text);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
