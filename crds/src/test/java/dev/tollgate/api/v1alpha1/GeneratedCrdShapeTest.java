package dev.tollgate.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What {@code kubectl} users rely on: status subresource, names, categories, printer columns. */
class GeneratedCrdShapeTest {

  @ParameterizedTest
  @CsvSource({
    "llmroutes, LLMRoute, llmr, Model|Tiers|Ready|Spend",
    "providercredentials, ProviderCredential, pcred, Provider|Health|Ready",
    "budgets, Budget, budget, Limit|Spent|Percent|Phase"
  })
  void crdHasWhatKubectlShows(String plural, String kind, String shortName, String columns) {
    CustomResourceDefinition crd = GeneratedCrds.crd(plural);

    assertThat(crd.getMetadata().getName()).isEqualTo(plural + ".tollgate.dev");
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo(kind);
    assertThat(crd.getSpec().getNames().getShortNames()).contains(shortName);
    assertThat(crd.getSpec().getNames().getCategories()).containsExactly("tollgate");

    CustomResourceDefinitionVersion version = crd.getSpec().getVersions().get(0);
    assertThat(version.getName()).isEqualTo("v1alpha1");
    assertThat(version.getServed()).isTrue();
    assertThat(version.getStorage()).isTrue();
    assertThat(version.getSubresources().getStatus()).as("status subresource").isNotNull();
    assertThat(version.getAdditionalPrinterColumns())
        .filteredOn(c -> c.getPriority() == null || c.getPriority() == 0)
        .extracting(CustomResourceColumnDefinition::getName)
        .contains(columns.split("\\|"));
  }
}
