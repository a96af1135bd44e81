package dev.tollgate.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** What a model name means inside a namespace: tiers, targets, failover, limits, caching. */
@Group(ApiFormats.GROUP)
@Version(ApiFormats.VERSION)
@Kind("LLMRoute")
@Plural("llmroutes")
@Singular("llmroute")
@ShortNames({"llmr", "llmrs"})
@Categories(ApiFormats.CATEGORY)
@AdditionalPrinterColumn(name = "Model", jsonPath = ".spec.model", priority = 0)
@AdditionalPrinterColumn(name = "Tiers", jsonPath = ".status.tiers", priority = 0)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    priority = 0)
@AdditionalPrinterColumn(name = "Spend", jsonPath = ".status.usage.spend", priority = 0)
@AdditionalPrinterColumn(name = "Requests", jsonPath = ".status.usage.requests", priority = 1)
@AdditionalPrinterColumn(name = "Failovers", jsonPath = ".status.usage.failovers", priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE,
    priority = 0)
public class LLMRoute extends CustomResource<LLMRouteSpec, LLMRouteStatus> implements Namespaced {

  @Override
  protected LLMRouteStatus initStatus() {
    return new LLMRouteStatus();
  }
}
