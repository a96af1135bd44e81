package dev.tollgate.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * YAML → Java → YAML for a full example of each kind: every field a user can write survives, so no
 * field of the API is silently dropped by the Java types.
 */
class RoundTripTest {

  @ParameterizedTest
  @CsvSource({
    "full-llmroute.yaml, dev.tollgate.api.v1alpha1.LLMRoute",
    "full-providercredential.yaml, dev.tollgate.api.v1alpha1.ProviderCredential",
    "full-budget.yaml, dev.tollgate.api.v1alpha1.Budget"
  })
  void everyFieldSurvivesARoundTrip(String file, Class<? extends HasMetadata> type)
      throws IOException {
    JsonNode original = GeneratedCrds.resource(file);

    HasMetadata parsed = Serialization.unmarshal(original.toString(), type);
    JsonNode written = GeneratedCrds.YAML.readTree(Serialization.asYaml(parsed));

    assertThat(parsed).isInstanceOf(type);
    assertThat(written).isEqualTo(original);
  }

  @ParameterizedTest
  @CsvSource({
    "full-llmroute.yaml, dev.tollgate.api.v1alpha1.LLMRoute",
    "full-providercredential.yaml, dev.tollgate.api.v1alpha1.ProviderCredential",
    "full-budget.yaml, dev.tollgate.api.v1alpha1.Budget"
  })
  void javaObjectsSurviveARoundTrip(String file, Class<? extends HasMetadata> type) {
    HasMetadata parsed = Serialization.unmarshal(GeneratedCrds.resource(file).toString(), type);

    HasMetadata again = Serialization.unmarshal(Serialization.asYaml(parsed), type);

    assertThat(again).usingRecursiveComparison().isEqualTo(parsed);
  }

  @org.junit.jupiter.api.Test
  void typedAccessMatchesTheYaml() {
    LLMRoute route =
        Serialization.unmarshal(
            GeneratedCrds.resource("full-llmroute.yaml").toString(), LLMRoute.class);

    assertThat(route.getSpec().getDefaultRoute()).isTrue();
    assertThat(route.getSpec().getTiers())
        .extracting(LLMRouteSpec.Tier::getName)
        .containsExactly("simple", "complex");
    assertThat(route.getSpec().getRetry().getRetryOn())
        .containsExactly(
            LLMRouteSpec.RetryOn.RATE_LIMITED,
            LLMRouteSpec.RetryOn.SERVER_ERROR,
            LLMRouteSpec.RetryOn.TIMEOUT,
            LLMRouteSpec.RetryOn.CONNECTION_ERROR);
    assertThat(route.getSpec().getCache().getResponse().getBackend())
        .isEqualTo(LLMRouteSpec.CacheBackend.REDIS);

    ProviderCredential credential =
        Serialization.unmarshal(
            GeneratedCrds.resource("full-providercredential.yaml").toString(),
            ProviderCredential.class);
    assertThat(credential.getSpec().getProvider()).isEqualTo(Provider.ANTHROPIC);
    assertThat(credential.getStatus().getOverallHealth()).isEqualTo(Health.HEALTHY);
  }
}
