package dev.tollgate.operator.validation;

import static dev.tollgate.operator.Fixtures.credential;
import static dev.tollgate.operator.Fixtures.secret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.operator.FakeClusterView;
import dev.tollgate.operator.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

class CredentialValidatorTest {
  private static final String NS = "ns";

  @Test
  void resolvesTheSecretByNameAndKey() {
    ProviderCredential c = credential(NS, "openai", Provider.OPENAI, "key", "api-key");
    CredentialValidator.Result r =
        CredentialValidator.validate(c, new FakeClusterView().add(secret(NS, "key", "api-key")));
    assertThat(r.valid()).isTrue();
    assertThat(r.secret()).isEqualTo(CredentialValidator.SecretState.RESOLVED);
    assertThat(r.secretMessage()).doesNotContain(Fixtures.API_KEY_VALUE);
  }

  @Test
  void providerSpecificFieldsAreRequired() {
    ProviderCredential azure = credential(NS, "az", Provider.AZURE_OPENAI, "key", "api-key");
    CredentialValidator.Result r =
        CredentialValidator.validate(
            azure, new FakeClusterView().add(secret(NS, "key", "api-key")));
    assertThat(r.problems())
        .extracting(Problem::reason, Problem::field)
        .contains(
            tuple("MissingField", "spec.endpoint"), tuple("MissingField", "spec.azure.deployment"));
  }

  @Test
  void passthroughPathsMustBeApiPathsAndOnlyOpenAiOrAnthropicMayBeTheDefault() {
    ProviderCredential c = credential(NS, "gem", Provider.GEMINI, "key", "api-key");
    ProviderCredentialSpec.Passthrough p = new ProviderCredentialSpec.Passthrough();
    p.setPaths(List.of("/v1/files", "files"));
    p.setIsDefault(true);
    c.getSpec().setPassthrough(p);
    CredentialValidator.Result r =
        CredentialValidator.validate(c, new FakeClusterView().add(secret(NS, "key", "api-key")));
    assertThat(r.problems())
        .extracting(Problem::reason, Problem::field)
        .containsExactly(
            tuple("InvalidPassthroughPath", "spec.passthrough.paths[1]"),
            tuple("PassthroughNotServed", "spec.passthrough.default"));
  }

  @Test
  void ollamaNeedsNoSecretButAnEndpoint() {
    ProviderCredential ollama = credential(NS, "local", Provider.OLLAMA, null, null);
    CredentialValidator.Result r = CredentialValidator.validate(ollama, new FakeClusterView());
    assertThat(r.secret()).isEqualTo(CredentialValidator.SecretState.NOT_NEEDED);
    assertThat(r.problems()).extracting(Problem::field).containsExactly("spec.endpoint");
  }

  @Test
  void badEndpointAndPricesAreNamed() {
    ProviderCredential c = credential(NS, "x", Provider.OPENAI_COMPATIBLE, "key", "api-key");
    c.getSpec().setEndpoint("ftp://nowhere");
    ProviderCredentialSpec.Pricing pricing = new ProviderCredentialSpec.Pricing();
    pricing.setMarkupPercent("ten");
    c.getSpec().setPricing(pricing);
    CredentialValidator.Result r =
        CredentialValidator.validate(c, new FakeClusterView().add(secret(NS, "key", "api-key")));
    assertThat(r.problems())
        .extracting(Problem::reason, Problem::field)
        .containsExactly(
            tuple("InvalidEndpoint", "spec.endpoint"),
            tuple("InvalidPrice", "spec.pricing.markupPercent"));
  }
}
