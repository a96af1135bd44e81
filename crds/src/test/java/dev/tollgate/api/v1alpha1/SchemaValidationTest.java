package dev.tollgate.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The generated OpenAPI schemas reject what the API server must reject. These checks run the
 * structural part of the schema (types, enums, bounds, patterns, required fields); the CEL rules
 * ({@code x-kubernetes-validations}) are evaluated by {@link CelRulesTest} and priced by {@link
 * CelCostTest}.
 */
class SchemaValidationTest {
  private static final JsonSchema ROUTE = GeneratedCrds.schema("llmroutes");
  private static final JsonSchema CREDENTIAL = GeneratedCrds.schema("providercredentials");
  private static final JsonSchema BUDGET = GeneratedCrds.schema("budgets");

  @Test
  void fullExamplesAreValid() {
    assertThat(GeneratedCrds.violations(ROUTE, GeneratedCrds.resource("full-llmroute.yaml")))
        .isEmpty();
    assertThat(
            GeneratedCrds.violations(
                CREDENTIAL, GeneratedCrds.resource("full-providercredential.yaml")))
        .isEmpty();
    assertThat(GeneratedCrds.violations(BUDGET, GeneratedCrds.resource("full-budget.yaml")))
        .isEmpty();
  }

  @Test
  void unknownProviderIsRejected() {
    JsonNode credential =
        edit("full-providercredential.yaml", r -> spec(r).put("provider", "openia"));

    assertThat(GeneratedCrds.violations(CREDENTIAL, credential))
        .anySatisfy(m -> assertThat(m).contains("provider").contains("enum"));
  }

  @Test
  void unknownAuthTypeIsRejected() {
    JsonNode credential =
        edit(
            "full-providercredential.yaml",
            r -> ((ObjectNode) spec(r).get("auth")).put("type", "awsIAM"));

    assertThat(GeneratedCrds.violations(CREDENTIAL, credential))
        .anySatisfy(m -> assertThat(m).contains("type").contains("enum"));
  }

  @Test
  void weightAbove100IsRejected() {
    JsonNode route =
        edit(
            "full-llmroute.yaml",
            r -> ((ObjectNode) spec(r).at("/tiers/0/targets/0")).put("weight", 150));

    assertThat(GeneratedCrds.violations(ROUTE, route))
        .anySatisfy(m -> assertThat(m).contains("weight").contains("100"));
  }

  @Test
  void negativeWeightIsRejected() {
    JsonNode route =
        edit(
            "full-llmroute.yaml",
            r -> ((ObjectNode) spec(r).at("/tiers/0/targets/0")).put("weight", -1));

    assertThat(GeneratedCrds.violations(ROUTE, route))
        .anySatisfy(m -> assertThat(m).contains("weight"));
  }

  @Test
  void negativeOrZeroLimitsAreRejected() {
    assertThat(
            GeneratedCrds.violations(
                BUDGET, edit("full-budget.yaml", r -> spec(r).put("limit", "-5.00"))))
        .anySatisfy(m -> assertThat(m).contains("limit"));
    assertThat(
            GeneratedCrds.violations(
                BUDGET, edit("full-budget.yaml", r -> spec(r).put("limit", "0.00"))))
        .anySatisfy(m -> assertThat(m).contains("limit"));
    assertThat(
            GeneratedCrds.violations(
                CREDENTIAL,
                edit(
                    "full-providercredential.yaml",
                    r -> ((ObjectNode) spec(r).get("limits")).put("requestsPerMinute", -10))))
        .anySatisfy(m -> assertThat(m).contains("requestsPerMinute"));
  }

  @Test
  void malformedMoneyIsRejected() {
    for (String bad : new String[] {"12.3.4", "$2500", "2,500.00", "1e3", "2500.1234567", ""}) {
      assertThat(
              GeneratedCrds.violations(
                  BUDGET, edit("full-budget.yaml", r -> spec(r).put("limit", bad))))
          .as("limit %s", bad)
          .anySatisfy(m -> assertThat(m).contains("limit"));
    }
    JsonNode price =
        edit(
            "full-providercredential.yaml",
            r -> ((ObjectNode) spec(r).at("/pricing/models/0")).put("input", "three dollars"));
    assertThat(GeneratedCrds.violations(CREDENTIAL, price))
        .anySatisfy(m -> assertThat(m).contains("input"));
  }

  @Test
  void wellFormedMoneyIsAccepted() {
    for (String good : new String[] {"2500", "2500.00", "0.5", "0.000001", "1000000.123456"}) {
      assertThat(
              GeneratedCrds.violations(
                  BUDGET, edit("full-budget.yaml", r -> spec(r).put("limit", good))))
          .as("limit %s", good)
          .isEmpty();
    }
  }

  @Test
  void malformedDurationsAreRejected() {
    JsonNode route =
        edit("full-llmroute.yaml", r -> ((ObjectNode) spec(r).get("timeouts")).put("total", "60"));

    assertThat(GeneratedCrds.violations(ROUTE, route))
        .anySatisfy(m -> assertThat(m).contains("total"));
  }

  @Test
  void missingRequiredFieldsAreRejected() {
    JsonNode route = edit("full-llmroute.yaml", r -> spec(r).remove("model"));
    assertThat(GeneratedCrds.violations(ROUTE, route))
        .anySatisfy(m -> assertThat(m).contains("model"));

    JsonNode noTargets =
        edit("full-llmroute.yaml", r -> ((ObjectNode) spec(r).at("/tiers/1")).putArray("targets"));
    assertThat(GeneratedCrds.violations(ROUTE, noTargets))
        .anySatisfy(m -> assertThat(m).contains("targets"));

    JsonNode noLimit = edit("full-budget.yaml", r -> spec(r).remove("limit"));
    assertThat(GeneratedCrds.violations(BUDGET, noLimit))
        .anySatisfy(m -> assertThat(m).contains("limit"));
  }

  @Test
  void unknownEnumValuesAreRejected() {
    assertThat(
            GeneratedCrds.violations(
                BUDGET, edit("full-budget.yaml", r -> spec(r).put("period", "Hourly"))))
        .anySatisfy(m -> assertThat(m).contains("period"));
    assertThat(
            GeneratedCrds.violations(
                BUDGET, edit("full-budget.yaml", r -> spec(r).put("onExceeded", "Panic"))))
        .anySatisfy(m -> assertThat(m).contains("onExceeded"));
    assertThat(
            GeneratedCrds.violations(
                ROUTE,
                edit(
                    "full-llmroute.yaml",
                    r ->
                        ((ObjectNode) spec(r).get("retry")).putArray("retryOn").add("BadRequest"))))
        .anySatisfy(m -> assertThat(m).contains("retryOn"));
  }

  @Test
  void percentagesOutOfRangeAreRejected() {
    JsonNode route =
        edit(
            "full-llmroute.yaml",
            r -> ((ObjectNode) spec(r).get("circuitBreaker")).put("errorRatePercent", 101));

    assertThat(GeneratedCrds.violations(ROUTE, route))
        .anySatisfy(m -> assertThat(m).contains("errorRatePercent"));
  }

  private static ObjectNode spec(JsonNode resource) {
    return (ObjectNode) resource.get("spec");
  }

  private static JsonNode edit(String file, Consumer<JsonNode> change) {
    JsonNode copy = GeneratedCrds.resource(file).deepCopy();
    change.accept(copy);
    return copy;
  }
}
