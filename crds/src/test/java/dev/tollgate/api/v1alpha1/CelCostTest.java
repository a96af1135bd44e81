package dev.tollgate.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The API server refuses a CRD whose rules it estimates too costly: more than 10^7 for one rule, or
 * more than 10^8 for all rules of the CRD weighted by how often each can run. {@link CelCost} makes
 * the same estimate from the generated schema, so a rule without bounds on what it reads fails
 * here.
 */
class CelCostTest {

  @ParameterizedTest
  @ValueSource(strings = {"llmroutes", "providercredentials", "budgets"})
  void everyRuleAndTheWholeCrdAreWithinTheApiServersBudgets(String plural) {
    CrdRules crd = CrdRules.of(plural);
    List<String> overBudget = new ArrayList<>();
    long total = 0;
    for (CrdRules.Rule rule : crd.rules) {
      long cost = CelCost.of(rule);
      if (cost > CelCost.PER_RULE_LIMIT) {
        overBudget.add(
            rule
                + " costs "
                + (cost == CelCost.UNBOUNDED ? "an unbounded amount" : cost)
                + ", over the per-rule budget "
                + CelCost.PER_RULE_LIMIT
                + ": give every string it reads a maxLength and every list a maxItems");
      }
      total = CelCost.add(total, CelCost.multiply(cost, rule.cardinality()));
    }

    assertThat(overBudget).isEmpty();
    assertThat(total)
        .as("estimated cost of all rules of %s", plural)
        .isLessThanOrEqualTo(CelCost.PER_CRD_LIMIT);
  }

  @Test
  void uniquenessRuleOverUnboundedNamesIsPricedAsTheApiServerDoes() throws IOException {
    // The LLMRoute schema as it was before tier names had a maxLength: the API server answered
    // "estimated rule cost exceeds budget" (16 x 16 comparisons of up to 3 MiB strings).
    JsonNode crd =
        GeneratedCrds.YAML.readTree(
            """
            spec:
              versions:
              - schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec:
                        type: object
                        x-kubernetes-validations:
                        - rule: "self.tiers.all(t, self.tiers.exists_one(u, u.name == t.name))"
                          message: tier names must be unique within a route
                        properties:
                          tiers:
                            type: array
                            maxItems: 16
                            items:
                              type: object
                              required: [name]
                              properties:
                                name: {type: string}
            """);
    CrdRules.Rule unbounded = CrdRules.of("old-llmroute", crd).rules.get(0);

    assertThat(CelCost.of(unbounded)).isGreaterThan(CelCost.PER_RULE_LIMIT).isEqualTo(80_532_339L);
  }

  @Test
  void boundedNamesBringTheSameRuleFarBelowTheBudget() {
    CrdRules.Rule tiers =
        CrdRules.of("llmroutes").rules.stream()
            .filter(r -> r.expression().contains("tiers"))
            .findFirst()
            .orElseThrow();

    assertThat(CelCost.of(tiers)).isLessThan(20_000);
  }

  @Test
  void anUnboundedListMultipliesTheRulesInsideIt() throws IOException {
    JsonNode crd =
        GeneratedCrds.YAML.readTree(
            """
            spec:
              versions:
              - schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      items:
                        type: array
                        items:
                          type: object
                          x-kubernetes-validations:
                          - rule: "self.a == 'x'"
                          properties:
                            a: {type: string}
            """);
    CrdRules.Rule inList = CrdRules.of("list", crd).rules.get(0);

    // as many {} as fit into a 3 MiB request: (3 MiB - 2) / (2 + 1)
    assertThat(inList.cardinality()).isEqualTo((CelCost.MAX_REQUEST_SIZE_BYTES - 2) / 3);
  }
}
