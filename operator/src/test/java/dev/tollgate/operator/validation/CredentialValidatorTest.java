package dev.tollgate.operator.validation;

import static dev.tollgate.operator.Fixtures.credential;
import static dev.tollgate.operator.Fixtures.secret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.tollgate.api.v1alpha1.CredentialAuth;
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

  @Test
  void anIdentityCredentialNeedsNoSecret() {
    ProviderCredential c = credential(NS, "bedrock", Provider.BEDROCK, null, null);
    ProviderCredentialSpec.BedrockSettings b = new ProviderCredentialSpec.BedrockSettings();
    b.setRegion("us-east-1");
    c.getSpec().setBedrock(b);
    CredentialAuth auth = new CredentialAuth();
    auth.setType(CredentialAuth.Type.AWS_IAM);
    c.getSpec().setAuth(auth);
    CredentialValidator.Result r = CredentialValidator.validate(c, new FakeClusterView());
    assertThat(r.problems()).isEmpty();
    assertThat(r.secret()).isEqualTo(CredentialValidator.SecretState.NOT_NEEDED);
    assertThat(r.secretMessage()).contains("awsIam uses the pod's cloud identity");
  }

  @Test
  void anIdentityOfAnotherCloudIsRejected() {
    ProviderCredential c = credential(NS, "vx", Provider.VERTEX_AI, null, null);
    ProviderCredentialSpec.VertexSettings v = new ProviderCredentialSpec.VertexSettings();
    v.setProject("p");
    v.setLocation("us-east5");
    c.getSpec().setVertex(v);
    CredentialAuth auth = new CredentialAuth();
    auth.setType(CredentialAuth.Type.AWS_IAM);
    c.getSpec().setAuth(auth);
    CredentialValidator.Result r = CredentialValidator.validate(c, new FakeClusterView());
    assertThat(r.problems())
        .extracting(Problem::reason, Problem::field)
        .containsExactly(tuple("InvalidAuth", "spec.auth.type"));
    assertThat(r.problems().get(0).message()).contains("awsIam is for provider bedrock");
  }
}
