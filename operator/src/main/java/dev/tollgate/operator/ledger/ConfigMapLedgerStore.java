package dev.tollgate.operator.ledger;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps each tenant namespace's ledger as JSON in a ConfigMap of the <b>operator's</b> namespace,
 * {@code tollgate-spend-<tenant namespace>} (label {@code tollgate.dev/namespace: <tenant>}), where
 * a tenant who may edit its own namespace cannot touch it. Writes are conditional on the
 * resourceVersion read (optimistic concurrency).
 *
 * <p>Reads come from the copy this store last wrote, not from the API server: a flush costs one
 * write, no GET. When another replica wrote in between, the conditional write fails, the copy is
 * dropped and the next load reads the object afresh, so the copy can be stale but never wins.
 *
 * <p>Size guard: an object larger than {@link #MAX_BYTES} is never sent (the API server refuses
 * objects over 1 MiB, and etcd pays for every byte of every write); {@link LedgerTooLargeException}
 * tells the caller, which compacts or refuses with a clear message.
 *
 * <p>Upgrade: a namespace without a ledger in the operator's namespace adopts the one an older
 * operator kept in the tenant's namespace ({@code tollgate-spend}), so no spend is lost; it is read
 * once and left in place.
 */
public final class ConfigMapLedgerStore implements LedgerStore {
  /** The prefix of the ledger objects' names, and the name of the legacy per-tenant ledger. */
  public static final String DEFAULT_NAME = "tollgate-spend";

  /** The operator namespace tests and local mode run with. */
  public static final String DEFAULT_OPERATOR_NAMESPACE = "tollgate-system";

  static final String KEY = "ledger.json";
  public static final String LABEL_SELECTOR = "app.kubernetes.io/component=spend-ledger";

  /** Label naming the tenant namespace a ledger object accounts for. */
  public static final String NAMESPACE_LABEL = "tollgate.dev/namespace";

  /** The largest ledger object written: half the API server's limit, a quarter of etcd's. */
  public static final int MAX_BYTES = 512 * 1024;

  // A sidecar's target snapshot is stored as an array (["chat","main","openai","gpt-4o","Closed",
  // 12,0.0,420,900,null,null]): a third of the bytes of the object form, for what a ledger holds
  // once per live sidecar. Ledgers written in the object form still read.
  @JsonFormat(shape = JsonFormat.Shape.ARRAY)
  private interface AsArray {}

  // Likewise each reporter (the one part of a ledger that grows with the sidecars): its field names
  // were a quarter of its bytes. The order is fixed here so that a ledger reads back on any JVM.
  @JsonFormat(shape = JsonFormat.Shape.ARRAY)
  @JsonPropertyOrder({
    "namespaceAndPod",
    "sequence",
    "configVersion",
    "lastSeen",
    "grants",
    "ended",
    "targets",
    "rateShares",
    "called"
  })
  private interface ReporterAsArray {}

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .addMixIn(UsageReport.TargetState.class, AsArray.class)
          .addMixIn(SpendLedger.Reporter.class, ReporterAsArray.class)
          // an array holds every field, nulls included: a null keeps the field's default (an
          // empty map stays an empty map, as when the object form left it out)
          .setDefaultSetterInfo(JsonSetter.Value.forValueNulls(Nulls.SKIP));

  private static final ObjectMapper LEGACY_JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** A ledger that would be larger than {@link #MAX_BYTES}: not written. */
  public static final class LedgerTooLargeException extends IllegalStateException {
    public final int bytes;

    LedgerTooLargeException(String message, int bytes) {
      super(message);
      this.bytes = bytes;
    }
  }

  private final KubernetesClient client;
  private final String operatorNamespace;
  private final String prefix;
  private final Map<String, Versioned> written = new ConcurrentHashMap<>();
  private final Map<String, Long> sizes = new ConcurrentHashMap<>();

  /**
   * @param operatorNamespace where the ledgers live
   * @param prefix ledger objects are named {@code <prefix>-<tenant namespace>}
   */
  public ConfigMapLedgerStore(KubernetesClient client, String operatorNamespace, String prefix) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
    this.prefix = prefix;
  }

  /** The name of the ledger object of {@code namespace}. */
  public static String objectName(String prefix, String namespace) {
    return prefix + "-" + namespace;
  }

  /** The ledger object of {@code namespace} in the default operator namespace (tests, tools). */
  public static Resource<ConfigMap> resource(KubernetesClient client, String namespace) {
    return client
        .configMaps()
        .inNamespace(DEFAULT_OPERATOR_NAMESPACE)
        .withName(objectName(DEFAULT_NAME, namespace));
  }

  /** The ledger of {@code namespace} (empty if none) in the default operator namespace. */
  public static SpendLedger read(KubernetesClient client, String namespace) {
    ConfigMap cm = resource(client, namespace).get();
    return cm == null ? new SpendLedger() : parse(cm);
  }

  /** The tenant namespace a ledger object accounts for, or null when it is not one. */
  public static String tenantOf(ConfigMap cm) {
    Map<String, String> labels = cm.getMetadata().getLabels();
    return labels == null ? null : labels.get(NAMESPACE_LABEL);
  }

  @Override
  public Versioned load(String namespace) {
    Versioned cached = written.remove(namespace);
    if (cached != null) {
      return cached;
    }
    ConfigMap cm =
        client
            .configMaps()
            .inNamespace(operatorNamespace)
            .withName(objectName(prefix, namespace))
            .get();
    if (cm != null) {
      return new Versioned(parse(cm), cm.getMetadata().getResourceVersion());
    }
    ConfigMap legacy = client.configMaps().inNamespace(namespace).withName(prefix).get();
    return new Versioned(legacy == null ? new SpendLedger() : parse(legacy), null);
  }

  /** The ledger a ConfigMap holds (an empty one if it holds none). */
  public static SpendLedger parse(ConfigMap cm) {
    String json = cm.getData() == null ? null : cm.getData().get(KEY);
    try {
      if (json == null) {
        return new SpendLedger();
      }
      try {
        return JSON.readValue(json, SpendLedger.class);
      } catch (com.fasterxml.jackson.databind.exc.MismatchedInputException objectForm) {
        return LEGACY_JSON.readValue(json, SpendLedger.class); // reporters as objects
      }
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(
          "ConfigMap "
              + cm.getMetadata().getNamespace()
              + "/"
              + cm.getMetadata().getName()
              + " does not hold a Tollgate spend ledger ("
              + e.getOriginalMessage()
              + "); it is owned by the operator, do not edit it",
          e);
    }
  }

  /** The ledger as stored, in bytes of UTF-8 JSON. */
  public static byte[] serialize(SpendLedger ledger) {
    try {
      return JSON.writeValueAsBytes(ledger);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the spend ledger", e);
    }
  }

  @Override
  public long storedBytes(String namespace) {
    return sizes.getOrDefault(namespace, 0L);
  }

  @Override
  public boolean save(String namespace, SpendLedger ledger, String version) {
    // whatever happens, the copy the caller changed is no longer what is stored
    written.remove(namespace);
    byte[] json = serialize(ledger);
    if (json.length > MAX_BYTES) {
      throw new LedgerTooLargeException(
          "the spend ledger of namespace "
              + namespace
              + " would be "
              + json.length / 1024
              + " KiB, over the "
              + MAX_BYTES / 1024
              + " KiB the operator writes",
          json.length);
    }
    ConfigMap cm =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(objectName(prefix, namespace))
            .withNamespace(operatorNamespace)
            .withResourceVersion(version)
            .addToLabels("app.kubernetes.io/managed-by", "tollgate-operator")
            .addToLabels("app.kubernetes.io/component", "spend-ledger")
            .addToLabels(NAMESPACE_LABEL, namespace)
            .endMetadata()
            .withData(Map.of(KEY, new String(json, StandardCharsets.UTF_8)))
            .build();
    try {
      ConfigMap stored =
          version == null
              ? client.configMaps().inNamespace(operatorNamespace).resource(cm).create()
              : client.configMaps().inNamespace(operatorNamespace).resource(cm).update();
      written.put(namespace, new Versioned(ledger, stored.getMetadata().getResourceVersion()));
      sizes.put(namespace, (long) json.length);
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return false;
      }
      throw e;
    }
  }
}
