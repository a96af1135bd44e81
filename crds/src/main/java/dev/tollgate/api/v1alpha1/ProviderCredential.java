package dev.tollgate.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** How to reach one provider account: endpoint, API key Secret, account limits and prices. */
@Group(ApiFormats.GROUP)
@Version(ApiFormats.VERSION)
@ShortNames({"pcred", "pcreds"})
@Categories(ApiFormats.CATEGORY)
@AdditionalPrinterColumn(name = "Provider", jsonPath = ".spec.provider", priority = 0)
@AdditionalPrinterColumn(name = "Health", jsonPath = ".status.overallHealth", priority = 0)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    priority = 0)
@AdditionalPrinterColumn(name = "Endpoint", jsonPath = ".spec.endpoint", priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE,
    priority = 0)
public class ProviderCredential
    extends CustomResource<ProviderCredentialSpec, ProviderCredentialStatus> implements Namespaced {

  @Override
  protected ProviderCredentialStatus initStatus() {
    return new ProviderCredentialStatus();
  }
}
