package dev.tollgate.operator.render;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.operator.validation.ClusterView;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one path that writes a namespace's sidecar ConfigMap. Any reconcile may ask for a namespace
 * to be synced; the render and the write happen under that namespace's lock, from the informer
 * caches as they are at that moment, so a later sync never publishes an older state than an earlier
 * one. The ConfigMap is only written when its content differs, and writes carry the resourceVersion
 * that was read, so a stale replica (a leader that lost its Lease) cannot overwrite a newer
 * configuration.
 */
public final class SidecarConfigSync {
  private static final Logger LOG = LoggerFactory.getLogger(SidecarConfigSync.class);

  /** What a sync did. */
  public enum Write {
    NONE,
    CREATED,
    UPDATED,
    DELETED
  }

  /** The rendering that was published and what it took. */
  public record Result(NamespaceRenderer.Rendering rendering, Write write) {
    public Optional<String> version() {
      return rendering.config().map(SidecarConfig::version);
    }
  }

  /** Told about every write, e.g. to count them. */
  public interface WriteListener {
    void written(String namespace, Write write);
  }

  private final NamespaceRenderer renderer;
  private final ConfigMapStore store;
  private final String configMapName;
  private final WriteListener listener;
  private final RenderedConfigs rendered;
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
  private final Map<String, List<LLMRoute>> owners = new ConcurrentHashMap<>();
  private volatile Supplier<String> reportCa;

  public SidecarConfigSync(
      NamespaceRenderer renderer,
      ConfigMapStore store,
      String configMapName,
      WriteListener listener) {
    this(renderer, store, configMapName, listener, new RenderedConfigs());
  }

  /**
   * @param rendered where each namespace's rendering is kept for the report channel, which
   *     announces and serves it
   */
  public SidecarConfigSync(
      NamespaceRenderer renderer,
      ConfigMapStore store,
      String configMapName,
      WriteListener listener,
      RenderedConfigs rendered) {
    this.renderer = renderer;
    this.store = store;
    this.configMapName = configMapName;
    this.listener = listener;
    this.rendered = rendered;
  }

  /**
   * Also keeps the ConfigMap {@link SidecarConfigMap#REPORT_CA_NAME} next to every configuration,
   * holding {@code caPem} (the report endpoint's CA bundle as it is now), which injected pods
   * mount. Call {@link #refreshReportCa} when it changes.
   */
  public void publishReportCa(Supplier<String> caPem) {
    this.reportCa = caPem;
  }

  /** Rewrites the CA bundle ConfigMap of every namespace that has a configuration (a rotation). */
  public void refreshReportCa() {
    for (String namespace : rendered.namespaces()) {
      ReentrantLock lock = locks.computeIfAbsent(namespace, k -> new ReentrantLock());
      lock.lock();
      try {
        List<LLMRoute> routes = owners.get(namespace);
        if (routes != null) {
          publishReportCa(namespace, routes);
        }
      } catch (RuntimeException e) {
        LOG.warn(
            "cannot update ConfigMap {}/{}: {}",
            namespace,
            SidecarConfigMap.REPORT_CA_NAME,
            e.getMessage());
      } finally {
        lock.unlock();
      }
    }
  }

  /** What this operator rendered per namespace, whatever the ConfigMaps hold now. */
  public RenderedConfigs rendered() {
    return rendered;
  }

  /** Renders {@code namespace} from {@code view} and makes the ConfigMap match. */
  public Result sync(String namespace, ClusterView view) {
    ReentrantLock lock = locks.computeIfAbsent(namespace, k -> new ReentrantLock());
    lock.lock();
    try {
      NamespaceRenderer.Rendering rendering = renderer.render(namespace, view);
      // The render is the reference even when the copy cannot be written (a ConfigMap of that
      // name that is not ours, a conflict): sidecars are told its hash and fetch it from us.
      rendering
          .config()
          .ifPresentOrElse(c -> rendered.put(namespace, c), () -> rendered.remove(namespace));
      Write write = publish(rendering);
      if (rendering.config().isPresent()) {
        owners.put(namespace, rendering.owners());
        publishReportCa(namespace, rendering.owners());
      } else {
        owners.remove(namespace);
        removeReportCa(namespace);
      }
      if (write != Write.NONE) {
        listener.written(namespace, write);
        LOG.info(
            "{} ConfigMap {}/{} ({})",
            write.name().toLowerCase(),
            namespace,
            configMapName,
            rendering.config().map(SidecarConfig::version).orElse("no routes left"));
      }
      return new Result(rendering, write);
    } finally {
      lock.unlock();
    }
  }

  private Write publish(NamespaceRenderer.Rendering rendering) {
    String ns = rendering.namespace();
    Optional<ConfigMap> existing = store.get(ns, configMapName);
    if (rendering.config().isEmpty()) {
      if (existing.isPresent() && isOurs(existing.get())) {
        store.delete(ns, configMapName, existing.get().getMetadata().getResourceVersion());
        return Write.DELETED;
      }
      return Write.NONE;
    }
    ConfigMap desired = desired(rendering);
    if (existing.isEmpty()) {
      store.create(desired);
      return Write.CREATED;
    }
    ConfigMap current = existing.get();
    if (!isOurs(current)) {
      throw new ConfigMapConflictException(
          "ConfigMap "
              + ns
              + "/"
              + configMapName
              + " exists but is not managed by the operator (no label "
              + SidecarConfigMap.MANAGED_BY_LABEL
              + "="
              + SidecarConfigMap.MANAGED_BY
              + "); rename or delete it");
    }
    if (sameContent(current, desired)) {
      return Write.NONE;
    }
    // keep labels and annotations that other tools added; ours win on conflict
    desired
        .getMetadata()
        .setLabels(merged(current.getMetadata().getLabels(), desired.getMetadata().getLabels()));
    desired
        .getMetadata()
        .setAnnotations(
            merged(current.getMetadata().getAnnotations(), desired.getMetadata().getAnnotations()));
    desired.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
    store.replace(desired);
    return Write.UPDATED;
  }

  /**
   * Makes the namespace's CA bundle ConfigMap hold the current CA. A ConfigMap of that name that is
   * not ours is left alone (logged): pods then trust whatever it holds, as they would trust what a
   * namespace editor writes into their spec.
   */
  private void publishReportCa(String namespace, List<LLMRoute> routes) {
    Supplier<String> ca = reportCa;
    if (ca == null) {
      return;
    }
    String pem = ca.get();
    if (pem == null || pem.isBlank()) {
      return;
    }
    ConfigMap desired =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(SidecarConfigMap.REPORT_CA_NAME)
            .withNamespace(namespace)
            .withLabels(
                Map.of(
                    SidecarConfigMap.MANAGED_BY_LABEL,
                    SidecarConfigMap.MANAGED_BY,
                    SidecarConfigMap.COMPONENT_LABEL,
                    SidecarConfigMap.REPORT_CA_COMPONENT))
            .withOwnerReferences(
                routes.stream()
                    .filter(r -> r.getMetadata().getUid() != null)
                    .map(SidecarConfigSync::ownerReference)
                    .toList())
            .endMetadata()
            .withData(Map.of(SidecarConfigMap.REPORT_CA_KEY, pem))
            .build();
    Optional<ConfigMap> existing = store.get(namespace, SidecarConfigMap.REPORT_CA_NAME);
    if (existing.isEmpty()) {
      store.create(desired);
      LOG.info("created ConfigMap {}/{}", namespace, SidecarConfigMap.REPORT_CA_NAME);
      return;
    }
    ConfigMap current = existing.get();
    if (!isOurs(current)) {
      LOG.warn(
          "ConfigMap {}/{} exists but is not managed by the operator; not writing the report CA"
              + " into it (rename or delete it)",
          namespace,
          SidecarConfigMap.REPORT_CA_NAME);
      return;
    }
    if (Objects.equals(current.getData(), desired.getData())
        && contains(current.getMetadata().getLabels(), desired.getMetadata().getLabels())
        && Objects.equals(
            current.getMetadata().getOwnerReferences(),
            desired.getMetadata().getOwnerReferences())) {
      return;
    }
    desired
        .getMetadata()
        .setLabels(merged(current.getMetadata().getLabels(), desired.getMetadata().getLabels()));
    desired.getMetadata().setAnnotations(current.getMetadata().getAnnotations());
    desired.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
    store.replace(desired);
    LOG.info("updated ConfigMap {}/{} (report CA)", namespace, SidecarConfigMap.REPORT_CA_NAME);
  }

  private void removeReportCa(String namespace) {
    if (reportCa == null) {
      return;
    }
    Optional<ConfigMap> existing = store.get(namespace, SidecarConfigMap.REPORT_CA_NAME);
    if (existing.isPresent() && isOurs(existing.get())) {
      store.delete(
          namespace,
          SidecarConfigMap.REPORT_CA_NAME,
          existing.get().getMetadata().getResourceVersion());
    }
  }

  private ConfigMap desired(NamespaceRenderer.Rendering rendering) {
    SidecarConfig config = rendering.config().orElseThrow();
    List<OwnerReference> owners =
        rendering.owners().stream()
            .filter(r -> r.getMetadata().getUid() != null)
            .map(SidecarConfigSync::ownerReference)
            .toList();
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(configMapName)
        .withNamespace(rendering.namespace())
        .withLabels(
            Map.of(
                SidecarConfigMap.MANAGED_BY_LABEL,
                SidecarConfigMap.MANAGED_BY,
                SidecarConfigMap.COMPONENT_LABEL,
                SidecarConfigMap.COMPONENT))
        .withAnnotations(Map.of(SidecarConfigMap.VERSION_ANNOTATION, config.version()))
        .withOwnerReferences(owners)
        .endMetadata()
        .withData(Map.of(SidecarConfigMap.KEY, SidecarConfigCodec.write(config)))
        .build();
  }

  /**
   * Owned by every route of the namespace, so Kubernetes deletes it with the last of them even if
   * the operator is not running.
   */
  private static OwnerReference ownerReference(LLMRoute route) {
    return new OwnerReferenceBuilder()
        .withApiVersion(route.getApiVersion())
        .withKind(route.getKind())
        .withName(route.getMetadata().getName())
        .withUid(route.getMetadata().getUid())
        .build();
  }

  private static boolean isOurs(ConfigMap cm) {
    return SidecarConfigMap.MANAGED_BY.equals(
        cm.getMetadata().getLabels() == null
            ? null
            : cm.getMetadata().getLabels().get(SidecarConfigMap.MANAGED_BY_LABEL));
  }

  /** Only what we set counts; other labels or annotations (added by tools) are left alone. */
  private static boolean sameContent(ConfigMap current, ConfigMap desired) {
    return Objects.equals(current.getData(), desired.getData())
        && contains(current.getMetadata().getLabels(), desired.getMetadata().getLabels())
        && contains(current.getMetadata().getAnnotations(), desired.getMetadata().getAnnotations())
        && Objects.equals(
            current.getMetadata().getOwnerReferences(), desired.getMetadata().getOwnerReferences());
  }

  private static Map<String, String> merged(Map<String, String> theirs, Map<String, String> ours) {
    Map<String, String> result = new TreeMap<>();
    if (theirs != null) {
      result.putAll(theirs);
    }
    result.putAll(ours);
    return result;
  }

  private static boolean contains(Map<String, String> actual, Map<String, String> expected) {
    return actual != null && actual.entrySet().containsAll(expected.entrySet());
  }
}
