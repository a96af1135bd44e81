package dev.tollgate.operator.render;

import static dev.tollgate.operator.Fixtures.credential;
import static dev.tollgate.operator.Fixtures.route;
import static dev.tollgate.operator.Fixtures.secret;
import static dev.tollgate.operator.Fixtures.tier;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.operator.FakeClusterView;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SidecarConfigSyncTest {
  private static final String NS = "ns";

  /** An in-memory API server for one kind, with resourceVersions and a write log. */
  static final class MemoryStore implements ConfigMapStore {
    final Map<String, ConfigMap> objects = new HashMap<>();
    final List<String> writes = new ArrayList<>();
    int version;

    @Override
    public Optional<ConfigMap> get(String namespace, String name) {
      return Optional.ofNullable(objects.get(namespace + "/" + name))
          .map(c -> new ConfigMapBuilder(c).build());
    }

    @Override
    public ConfigMap create(ConfigMap cm) {
      String key = cm.getMetadata().getNamespace() + "/" + cm.getMetadata().getName();
      assertThat(objects).doesNotContainKey(key);
      return put("create", key, cm);
    }

    @Override
    public ConfigMap replace(ConfigMap cm) {
      String key = cm.getMetadata().getNamespace() + "/" + cm.getMetadata().getName();
      assertThat(cm.getMetadata().getResourceVersion())
          .isEqualTo(objects.get(key).getMetadata().getResourceVersion());
      return put("replace", key, cm);
    }

    @Override
    public void delete(String namespace, String name, String resourceVersion) {
      writes.add("delete");
      objects.remove(namespace + "/" + name);
    }

    private ConfigMap put(String op, String key, ConfigMap cm) {
      writes.add(op);
      ConfigMap stored = new ConfigMapBuilder(cm).build();
      stored.getMetadata().setResourceVersion(String.valueOf(++version));
      objects.put(key, stored);
      return stored;
    }
  }

  private final MemoryStore store = new MemoryStore();
  private final SidecarConfigSync sync =
      new SidecarConfigSync(
          new NamespaceRenderer(new SidecarRecords()),
          store,
          SidecarConfigMap.NAME,
          (ns, write) -> {});

  private FakeClusterView view(LLMRoute... routes) {
    return new FakeClusterView()
        .add(
            secret(NS, "key", "api-key"),
            credential(NS, "openai", Provider.OPENAI, "key", "api-key"))
        .add(routes);
  }

  @Test
  void writesOnlyWhenTheRenderingChanges() {
    LLMRoute chat = route(NS, "chat", "chat", tier("t", "openai", "gpt-4o"));
    assertThat(sync.sync(NS, view(chat)).write()).isEqualTo(SidecarConfigSync.Write.CREATED);
    assertThat(sync.sync(NS, view(chat)).write()).isEqualTo(SidecarConfigSync.Write.NONE);

    LLMRoute other = route(NS, "other", "other", tier("t", "openai", "gpt-4o-mini"));
    assertThat(sync.sync(NS, view(chat, other)).write()).isEqualTo(SidecarConfigSync.Write.UPDATED);
    assertThat(sync.sync(NS, view(chat, other)).write()).isEqualTo(SidecarConfigSync.Write.NONE);

    assertThat(sync.sync(NS, view()).write()).isEqualTo(SidecarConfigSync.Write.DELETED);
    assertThat(store.writes).containsExactly("create", "replace", "delete");
  }

  @Test
  void keepsLabelsOthersAddedAndLeavesForeignConfigMapsAlone() {
    LLMRoute chat = route(NS, "chat", "chat", tier("t", "openai", "gpt-4o"));
    sync.sync(NS, view(chat));
    store.objects.get(NS + "/" + SidecarConfigMap.NAME).getMetadata().getLabels().put("team", "a");

    sync.sync(NS, view(chat, route(NS, "b", "b", tier("t", "openai", "gpt-4o"))));
    assertThat(store.objects.get(NS + "/" + SidecarConfigMap.NAME).getMetadata().getLabels())
        .containsEntry("team", "a")
        .containsEntry(SidecarConfigMap.MANAGED_BY_LABEL, SidecarConfigMap.MANAGED_BY);

    store.objects.clear();
    store.objects.put(
        NS + "/" + SidecarConfigMap.NAME,
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(SidecarConfigMap.NAME)
            .withNamespace(NS)
            .withResourceVersion("1")
            .endMetadata()
            .build());
    assertThatThrownBy(() -> sync.sync(NS, view(chat)))
        .isInstanceOf(ConfigMapConflictException.class)
        .hasMessageContaining("not managed by the operator");
    assertThat(sync.sync(NS, view()).write()).isEqualTo(SidecarConfigSync.Write.NONE);
    assertThat(store.objects).containsKey(NS + "/" + SidecarConfigMap.NAME);
  }
}
