package dev.tollgate.local;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.operator.status.BudgetSpendStatus;
import dev.tollgate.sidecar.Sidecar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The resources of the example's namespace as {@code kubectl get} shows them: the tables, every
 * condition and the Events; printed once the status caught up with the sidecars' last reports.
 */
final class StatusTables {
  private final NamespacedKubernetesClient client;
  private final PrintStream out;

  StatusTables(NamespacedKubernetesClient client, PrintStream out) {
    this.client = client;
    this.out = out;
  }

  /**
   * Delivers the sidecars' last usage and waits until the Budgets', LLMRoutes' and
   * ProviderCredentials' status shows what the ledger holds, so that the tables below are final.
   */
  void awaitSpendWrittenBack(String namespace, List<Sidecar> sidecars) throws InterruptedException {
    for (Sidecar sidecar : sidecars) {
      if (!sidecar.reporter().flush(Duration.ofSeconds(10))) {
        out.println("      a sidecar could not deliver its last report; the tables may lag");
      }
    }
    Instant deadline = Instant.now().plusSeconds(15);
    while (Instant.now().isBefore(deadline)) {
      SpendLedger ledger = ConfigMapLedgerStore.read(client, namespace);
      boolean current =
          client.resources(Budget.class).inNamespace(namespace).list().getItems().stream()
              .allMatch(
                  b -> {
                    SpendLedger.BudgetSpend spend = ledger.budgets.get(b.getMetadata().getName());
                    String expected =
                        BudgetSpendStatus.money(spend == null ? BigDecimal.ZERO : spend.spentUsd());
                    return b.getStatus() != null && expected.equals(b.getStatus().getSpent());
                  });
      current =
          current
              && client.resources(LLMRoute.class).inNamespace(namespace).list().getItems().stream()
                  .allMatch(
                      r -> {
                        SpendLedger.RouteUsage u = ledger.routes.get(r.getSpec().getModel());
                        return u == null
                            || (r.getStatus() != null
                                && r.getStatus().getUsage() != null
                                && BudgetSpendStatus.money(new BigDecimal(u.spent))
                                    .equals(r.getStatus().getUsage().getSpend()));
                      });
      current =
          current
              && client
                  .resources(ProviderCredential.class)
                  .inNamespace(namespace)
                  .list()
                  .getItems()
                  .stream()
                  .allMatch(
                      c ->
                          ledger.health.keySet().stream()
                                  .noneMatch(k -> k.startsWith(c.getMetadata().getName() + "/"))
                              || (c.getStatus() != null
                                  && c.getStatus().getOverallHealth() != null));
      if (current) {
        return;
      }
      Thread.sleep(100);
    }
    out.println("      the status did not catch up with the reports within 15 s");
  }

  void printResources(String namespace) {
    Instant now = Instant.now();
    out.printf("$ kubectl -n %s get providercredentials,llmroutes,budgets%n", namespace);
    out.println(
        KubectlTable.render(
            "providercredentials",
            client.resources(ProviderCredential.class).inNamespace(namespace).list().getItems(),
            now));
    out.println(
        KubectlTable.render(
            "llmroutes",
            client.resources(LLMRoute.class).inNamespace(namespace).list().getItems(),
            now));
    out.println(
        KubectlTable.render(
            "budgets",
            client.resources(Budget.class).inNamespace(namespace).list().getItems(),
            now));
    out.println("Conditions:");
    out.print(conditions(namespace));
    out.printf("%n$ kubectl -n %s get events%n", namespace);
    List<Event> events = client.v1().events().inNamespace(namespace).list().getItems();
    if (events.isEmpty()) {
      out.println("No events.");
    } else {
      List<List<String>> rows = new ArrayList<>();
      rows.add(List.of("TYPE", "REASON", "OBJECT", "MESSAGE"));
      for (Event e : events) {
        rows.add(
            List.of(
                String.valueOf(e.getType()),
                String.valueOf(e.getReason()),
                e.getInvolvedObject().getKind().toLowerCase()
                    + "/"
                    + e.getInvolvedObject().getName(),
                String.valueOf(e.getMessage())));
      }
      out.print(KubectlTable.format(rows));
    }
    out.println();
  }

  String conditions(String namespace) {
    StringBuilder sb = new StringBuilder();
    Stream.of(
            client.resources(ProviderCredential.class).inNamespace(namespace).list().getItems(),
            client.resources(LLMRoute.class).inNamespace(namespace).list().getItems(),
            client.resources(Budget.class).inNamespace(namespace).list().getItems())
        .flatMap(List::stream)
        .forEach(
            r -> {
              JsonNode status = Serialization.jsonMapper().valueToTree(r).path("status");
              for (JsonNode c : status.path("conditions")) {
                sb.append(
                    String.format(
                        "  %s/%s  %s=%s  %s: %s%n",
                        r.getKind().toLowerCase(),
                        r.getMetadata().getName(),
                        c.path("type").asText(),
                        c.path("status").asText(),
                        c.path("reason").asText(),
                        c.path("message").asText()));
              }
            });
    return sb.toString();
  }
}
