package dev.tollgate.operator.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import org.junit.jupiter.api.Test;

/** The ledger's optimistic concurrency, which exactly-once accounting across replicas rests on. */
@EnableKubernetesMockClient(crud = true)
class ConfigMapLedgerStoreIT {
  static KubernetesClient client;

  @Test
  void aWriteBasedOnAStaleReadIsRefused() {
    ConfigMapLedgerStore store = new ConfigMapLedgerStore(client, "tollgate-spend");
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
}
