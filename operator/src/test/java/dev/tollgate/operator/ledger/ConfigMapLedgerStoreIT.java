package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.Map;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class ConfigMapLedgerStoreIT {
  static KubernetesClient client;

  @Test
  void aWriteBasedOnAStaleReadIsRefused() {
    ConfigMapLedgerStore store =
        new ConfigMapLedgerStore(client, "tollgate-system", "tollgate-spend");
    LedgerStore.Versioned empty = store.load("ns");
    assertThat(empty.version()).isNull();
    assertThat(store.save("ns", empty.ledger(), null)).isTrue();
    // a second creator (the other replica) loses
    assertThat(store.save("ns", new SpendLedger(), null)).isFalse();

    LedgerStore.Versioned first = store.load("ns");
    LedgerStore.Versioned second = store.load("ns");
    first.ledger().reporters.put("pod/boot", new SpendLedger.Reporter());
    assertThat(store.save("ns", first.ledger(), first.version())).isTrue();
    assertThat(store.save("ns", second.ledger(), second.version())).isFalse();
    assertThat(store.load("ns").ledger().reporters).containsKey("pod/boot");
  }

  @Test
  void theLedgerLivesInTheOperatorsNamespaceOutOfTheTenantsReach() {
    ConfigMapLedgerStore store =
        new ConfigMapLedgerStore(client, "tollgate-system", "tollgate-spend");
    SpendLedger ledger = store.load("team-a").ledger();
    ledger.budgets.put("monthly", new SpendLedger.BudgetSpend());
    assertThat(store.save("team-a", ledger, null)).isTrue();

    assertThat(client.configMaps().inNamespace("team-a").list().getItems()).isEmpty();
    ConfigMap cm =
        client.configMaps().inNamespace("tollgate-system").withName("tollgate-spend-team-a").get();
    assertThat(cm.getMetadata().getLabels())
        .containsEntry("tollgate.dev/namespace", "team-a")
        .containsEntry("app.kubernetes.io/component", "spend-ledger");
    assertThat(ConfigMapLedgerStore.tenantOf(cm)).isEqualTo("team-a");
    assertThat(ConfigMapLedgerStore.parse(cm).budgets).containsKey("monthly");
  }

  @Test
  void aLedgerAnOlderOperatorKeptInTheTenantsNamespaceIsAdoptedSoNoSpendIsLost() {
    SpendLedger old = new SpendLedger();
    SpendLedger.BudgetSpend spend = new SpendLedger.BudgetSpend();
    spend.spent = "12.34";
    old.budgets.put("monthly", spend);
    client
        .configMaps()
        .inNamespace("upgraded")
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("tollgate-spend")
                .withNamespace("upgraded")
                .endMetadata()
                .withData(Map.of("ledger.json", new String(ConfigMapLedgerStore.serialize(old))))
                .build())
        .create();
    ConfigMapLedgerStore store =
        new ConfigMapLedgerStore(client, "tollgate-system", "tollgate-spend");

    LedgerStore.Versioned adopted = store.load("upgraded");
    assertThat(adopted.version()).isNull();
    assertThat(adopted.ledger().budgets.get("monthly").spent).isEqualTo("12.34");
    assertThat(store.save("upgraded", adopted.ledger(), null)).isTrue();
    assertThat(
            ConfigMapLedgerStore.parse(
                    client
                        .configMaps()
                        .inNamespace("tollgate-system")
                        .withName("tollgate-spend-upgraded")
                        .get())
                .budgets
                .get("monthly")
                .spent)
        .isEqualTo("12.34");
  }

  @Test
  void aLedgerOverTheSafeSizeIsNeverWritten() {
    ConfigMapLedgerStore store =
        new ConfigMapLedgerStore(client, "tollgate-system", "tollgate-spend");
    SpendLedger ledger = store.load("huge").ledger();
    for (int i = 0; i < 20_000; i++) {
      SpendLedger.Reporter r = new SpendLedger.Reporter();
      r.configVersion = "sha256:0123456789abcdef";
      ledger.reporters.put("pod-with-a-long-uid-" + i + "/boot-0123456789", r);
    }
    assertThatThrownBy(() -> store.save("huge", ledger, null))
        .isInstanceOf(ConfigMapLedgerStore.LedgerTooLargeException.class)
        .hasMessageContaining("namespace huge")
        .hasMessageContaining("over the 512 KiB");
    assertThat(
            client
                .configMaps()
                .inNamespace("tollgate-system")
                .withName("tollgate-spend-huge")
                .get())
        .isNull();
  }
}
