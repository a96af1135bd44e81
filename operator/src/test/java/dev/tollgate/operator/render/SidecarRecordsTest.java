package dev.tollgate.operator.render;

import static dev.tollgate.operator.Fixtures.credential;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.sidecar.config.CredentialConfig;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class SidecarRecordsTest {
  private final SidecarRecords records = new SidecarRecords();

  @Test
  void credentialsCarryKeyFilePathsPricesAndRegionalEndpoints() {
    ProviderCredential bedrock = credential("ns", "aws", Provider.BEDROCK, "aws-key", "token");
    ProviderCredentialSpec.BedrockSettings region = new ProviderCredentialSpec.BedrockSettings();
    region.setRegion("eu-west-1");
    bedrock.getSpec().setBedrock(region);
    ProviderCredentialSpec.Pricing pricing = new ProviderCredentialSpec.Pricing();
    pricing.setMarkupPercent("10");
    ProviderCredentialSpec.ModelPrice price = new ProviderCredentialSpec.ModelPrice();
    price.setModel("anthropic.claude-3-5-sonnet-20241022-v2:0");
    price.setInput("3.00");
    price.setOutput("15.00");
    pricing.setModels(List.of(price));
    bedrock.getSpec().setPricing(pricing);

    CredentialConfig c = records.credential(bedrock);

    assertThat(c.apiKeyFile()).isEqualTo("/var/run/tollgate/secrets/aws-key/token");
    assertThat(c.endpoint()).isEqualTo("https://bedrock-runtime.eu-west-1.amazonaws.com");
    assertThat(c.markupPercent()).isEqualByComparingTo(new BigDecimal("10"));
    assertThat(c.prices())
        .singleElement()
        .satisfies(p -> assertThat(p.output()).isEqualByComparingTo("15.00"));
  }

  @Test
  void vertexGlobalUsesTheGlobalEndpoint() {
    ProviderCredential vertex = credential("ns", "gcp", Provider.VERTEX_AI, "gcp-key", "sa.json");
    ProviderCredentialSpec.VertexSettings settings = new ProviderCredentialSpec.VertexSettings();
    settings.setProject("p");
    settings.setLocation("global");
    vertex.getSpec().setVertex(settings);
    assertThat(records.credential(vertex).endpoint())
        .isEqualTo("https://aiplatform.googleapis.com");
    settings.setLocation("us-east5");
    assertThat(records.credential(vertex).endpoint())
        .isEqualTo("https://us-east5-aiplatform.googleapis.com");
  }

  @Test
  void sizesInKiMiGi() {
    assertThat(SidecarRecords.bytes("64Mi")).isEqualTo(64L * 1024 * 1024);
    assertThat(SidecarRecords.bytes("2Gi")).isEqualTo(2L * 1024 * 1024 * 1024);
    assertThat(SidecarRecords.bytes("512")).isEqualTo(512L);
  }
}
