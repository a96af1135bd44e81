package dev.tollgate.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** How much a namespace (or some of its routes) may spend per period, and what happens then. */
@Group(ApiFormats.GROUP)
@Version(ApiFormats.VERSION)
@ShortNames({"budget", "budgets", "tgb"})
@Categories(ApiFormats.CATEGORY)
@AdditionalPrinterColumn(name = "Limit", jsonPath = ".spec.limit", priority = 0)
@AdditionalPrinterColumn(name = "Period", jsonPath = ".spec.period", priority = 0)
@AdditionalPrinterColumn(name = "Spent", jsonPath = ".status.spent", priority = 0)
@AdditionalPrinterColumn(name = "Percent", jsonPath = ".status.percentUsed", priority = 0)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", priority = 0)
@AdditionalPrinterColumn(name = "Batch", jsonPath = ".status.batchSpent", priority = 0)
@AdditionalPrinterColumn(name = "Action", jsonPath = ".spec.onExceeded", priority = 1)
@AdditionalPrinterColumn(name = "Projected", jsonPath = ".status.projected", priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE,
    priority = 0)
public class Budget extends CustomResource<BudgetSpec, BudgetStatus> implements Namespaced {

  @Override
  protected BudgetStatus initStatus() {
    return new BudgetStatus();
  }
}
