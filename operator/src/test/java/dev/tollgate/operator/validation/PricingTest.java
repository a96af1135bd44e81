package dev.tollgate.operator.validation;

import static dev.tollgate.operator.Fixtures.credential;
import static dev.tollgate.operator.Fixtures.route;
import static dev.tollgate.operator.Fixtures.tier;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.operator.status.Statuses;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PricingTest {
  private static final String NS = "team";

  private static ProviderCredential openai(String... overrides) {
    ProviderCredential c = credential(NS, "openai", Provider.OPENAI, "key", "api-key");
    ProviderCredentialSpec.Pricing pricing = new ProviderCredentialSpec.Pricing();
    for (String model : overrides) {
      ProviderCredentialSpec.ModelPrice p = new ProviderCredentialSpec.ModelPrice();
      p.setModel(model);
      p.setInput("1");
      p.setOutput("2");
      pricing.getModels().add(p);
    }
    c.getSpec().setPricing(pricing);
    return c;
  }

  private static List<LLMRoute> routes(String... models) {
    return List.of(route(NS, "chat", "chat", tier("main", "openai", models)));
  }

  @Test
  void anOverrideForAModelPricesItsDatedIds() {
    ProviderCredential c = openai("my-finetune");
    assertThat(Pricing.isPriced(c, "my-finetune-2024-08-06")).isTrue();
    assertThat(Pricing.isPriced(c, "my-finetune-large")).isFalse();
    assertThat(Pricing.unpricedModels(c, routes("my-finetune-2024-08-06", "gpt-4o-2024-08-06")))
        .isEmpty();
  }

  @Test
  void anOverrideThatPricesNoModelInUseIsReported() {
    // #18 item 7: an override with a typo (or for a model no route calls) was silently ignored
    ProviderCredential c = openai("gpt-4o", "gpt4o-mini");
    assertThat(Pricing.unmatchedOverrides(c, routes("gpt-4o-2024-08-06", "gpt-4o-mini")))
        .containsExactly("gpt4o-mini");
    // shadowed by a longer override for every model in use: unused too
    assertThat(
            Pricing.unmatchedOverrides(
                openai("gpt-4o", "gpt-4o-2024-08-06"), routes("gpt-4o-2024-08-06")))
        .containsExactly("gpt-4o");
    // no route uses the credential yet: nothing to judge
    assertThat(Pricing.unmatchedOverrides(c, List.of())).isEmpty();
  }

  @Test
  void theCredentialSaysPricedFalseWithTheUnmatchedOverride() {
    ProviderCredential c = openai("gpt4o-mini");
    ProviderCredential updated =
        Statuses.credential(
            c,
            CredentialValidator.validate(c, new FakeView()),
            List.of(),
            Pricing.unmatchedOverrides(c, routes("gpt-4o-mini")),
            Instant.EPOCH);
    Condition priced =
        Conditions.find(updated.getStatus().getConditions(), Conditions.PRICED).orElseThrow();
    assertThat(priced.getStatus()).isEqualTo("False");
    assertThat(priced.getReason()).isEqualTo("UnmatchedPriceOverride");
    assertThat(priced.getMessage()).contains("gpt4o-mini", "correct the id or remove it");
  }

  /** A cluster with the credential's Secret present. */
  private static final class FakeView implements ClusterView {
    @Override
    public List<LLMRoute> routes(String namespace) {
      return List.of();
    }

    @Override
    public java.util.Optional<ProviderCredential> credential(String namespace, String name) {
      return java.util.Optional.empty();
    }

    @Override
    public java.util.Optional<dev.tollgate.api.v1alpha1.Budget> budget(
        String namespace, String name) {
      return java.util.Optional.empty();
    }

    @Override
    public List<dev.tollgate.api.v1alpha1.Budget> budgets(String namespace) {
      return List.of();
    }

    @Override
    public java.util.Optional<io.fabric8.kubernetes.api.model.Secret> secret(
        String namespace, String name) {
      return java.util.Optional.of(
          dev.tollgate.operator.Fixtures.secret(namespace, name, "api-key"));
    }
  }
}
