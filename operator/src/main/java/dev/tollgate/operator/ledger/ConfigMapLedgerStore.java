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
 * <p>The journal ({@link LedgerStore}): up to {@link #JOURNAL_SLOTS} small ConfigMaps {@code
 * <ledger name>.j-<slot>} (a namespace name has no dot, so these never collide with another
 * namespace's ledger), each labelled with the index of the batch it holds and the fold position its
 * writer knew committed. A batch goes to the lowest slot whose batch is folded (by the position the
 * head batch recorded) or that does not exist yet, so a namespace folded every few batches keeps a
 * few slots; when none is free, to the slot of the oldest batch, which the accounting folds first.
 * The slot is a function of what the head batch's writer left, so every writer that knows the same
 * head picks the same slot. An append is one write: the slot's create (it never existed) or its
 * update conditional on the resourceVersion the writer knows. That write commits: a writer whose
 * view is stale (another committed this index, or a later one in this slot) gets a conflict, and
 * since a slot below {@link #JOURNAL_SLOTS} is never deleted and a resourceVersion never comes
 * back, a stale leader cannot write into a slot that was reused meanwhile. Ledger loads always read
 * the API server (the accounting keeps the live ledger in memory and loads only on start and after
 * a conflict), the journal with one LIST.
 *
 * <p>Upgrade from the 128-slot ring of earlier versions (batch {@code n} in slot {@code n mod 128},
 * no fold label): its batches are read and replayed like any other; the first batch after a head
 * written so goes to a low slot whose batch is at least 128 behind the head (the old ring's
 * guarantee that such a batch is folded); slots {@link #JOURNAL_SLOTS} and above are never written
 * again and are deleted once the ledger is committed past their batches, one delete each, once.
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
  private final Map<String, Long> sizes = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong journalBytes =
      new java.util.concurrent.atomic.AtomicLong();

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

  /**
   * The ledger of {@code namespace} as committed (empty if none), in the default operator
   * namespace: the stored ledger with the journal batches not yet folded into it replayed (tests,
   * tools; the ledger object alone may be a few seconds behind what the replies said).
   */
  public static SpendLedger read(KubernetesClient client, String namespace) {
    return new ConfigMapLedgerStore(client, DEFAULT_OPERATOR_NAMESPACE, DEFAULT_NAME)
        .committed(namespace);
  }

  /** The ledger of {@code namespace} as committed: the stored one with its journal replayed. */
  public SpendLedger committed(String namespace) {
    java.util.List<dev.tollgate.api.v1alpha1.Budget> budgets =
        client
            .resources(dev.tollgate.api.v1alpha1.Budget.class)
            .inNamespace(namespace)
            .list()
            .getItems();
    java.util.List<dev.tollgate.api.v1alpha1.ProviderCredential> credentials =
        client
            .resources(dev.tollgate.api.v1alpha1.ProviderCredential.class)
            .inNamespace(namespace)
            .list()
            .getItems();
    for (int attempt = 1; ; attempt++) {
      SpendLedger ledger = load(namespace).ledger();
      long folded = ledger.journal == null ? 0 : ledger.journal;
      try {
        for (Batch b : journal(namespace, folded).batches()) {
          for (Entry e : b.entries()) {
            Accounting.replay(
                ledger, e, budgets, credentials, b.at(), java.time.Duration.ofSeconds(30));
          }
        }
        return ledger;
      } catch (MissingBatchException folding) {
        if (attempt >= 8) {
          throw folding;
        }
      }
    }
  }

  /** The tenant namespace a ledger object accounts for, or null when it is not one. */
  public static String tenantOf(ConfigMap cm) {
    Map<String, String> labels = cm.getMetadata().getLabels();
    return labels == null ? null : labels.get(NAMESPACE_LABEL);
  }

  @Override
  public Versioned load(String namespace) {
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
  public byte[] prepare(String namespace, SpendLedger ledger) {
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
    return json;
  }

  @Override
  public String write(String namespace, byte[] json, String version) {
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
      sizes.put(namespace, (long) json.length);
      return stored.getMetadata().getResourceVersion();
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return null;
      }
      throw e;
    }
  }

  // ---- the journal ----

  static final String BATCH_KEY = "batch.json";
  public static final String JOURNAL_COMPONENT = "spend-journal";

  /** Label of a journal slot: the index of the batch it holds. */
  public static final String INDEX_LABEL = "tollgate.dev/journal-index";

  /**
   * The most slots of a namespace's journal: at most this many batches wait unfolded (the ledger is
   * folded early at half). Slots are taken as needed, so most namespaces have a few.
   */
  public static final int JOURNAL_SLOTS = 64;

  /** The ring of earlier versions: batch {@code n} in slot {@code n mod 128}, read on upgrade. */
  static final int LEGACY_SLOTS = 128;

  /** Label of a journal slot: the journal position its writer knew the ledger committed at. */
  public static final String FOLDED_LABEL = "tollgate.dev/journal-folded";

  /** The name of the object holding journal slot {@code slot} of {@code namespace}. */
  public static String slotName(String prefix, String namespace, int slot) {
    return objectName(prefix, namespace) + ".j-" + slot;
  }

  /**
   * The slot the batch after {@code head} goes to: the lowest one not known to exist or holding a
   * batch at or below {@code head.reusable()}; when none, the one holding the oldest batch (folded
   * by then: at most {@code slots} batches wait unfolded).
   */
  static int nextSlot(Head head, int slots) {
    int oldest = 0;
    long oldestIndex = Long.MAX_VALUE;
    for (int slot = 0; slot < slots; slot++) {
      Long held = head.held().get(slot);
      if (held == null || held <= head.reusable()) {
        return slot;
      }
      if (held < oldestIndex) {
        oldest = slot;
        oldestIndex = held;
      }
    }
    return oldest;
  }

  // per namespace, slots of the earlier, larger ring (JOURNAL_SLOTS and above) and their batches
  private final Map<String, Map<Integer, Long>> retired = new ConcurrentHashMap<>();

  /** A batch as stored: when it was applied, and per report the reporter it left. */
  static final class BatchJson {
    public String at;
    public java.util.List<EntryJson> entries = new java.util.ArrayList<>();
  }

  static final class EntryJson {
    public UsageReport report;
    public SpendLedger.Reporter reporter;
  }

  @Override
  public int journalSlots() {
    return JOURNAL_SLOTS;
  }

  /**
   * One LIST of the namespace's journal slots (label-selected): the versions of all of them and the
   * batches they hold, and the batches above {@code folded}, which must be {@code folded + 1,
   * folded + 2, ...} without a gap (a batch is written only after the one before it committed, and
   * a slot is reused only once its batch is folded: a gap means the ledger was folded further since
   * it was read).
   */
  @Override
  public Journal journal(String namespace, long folded) {
    String slotPrefix = objectName(prefix, namespace) + ".j-";
    Map<Integer, String> versions = new java.util.HashMap<>();
    Map<Integer, Long> held = new java.util.HashMap<>();
    Map<Long, Long> foldedBy = new java.util.HashMap<>(); // index -> its fold label (or null)
    Map<Integer, Long> old = new java.util.HashMap<>();
    java.util.TreeMap<Long, ConfigMap> after = new java.util.TreeMap<>();
    for (ConfigMap cm :
        client
            .configMaps()
            .inNamespace(operatorNamespace)
            .withLabel("app.kubernetes.io/component", JOURNAL_COMPONENT)
            .withLabel(NAMESPACE_LABEL, namespace)
            .list()
            .getItems()) {
      String name = cm.getMetadata().getName();
      Map<String, String> labels = cm.getMetadata().getLabels();
      if (!name.startsWith(slotPrefix) || labels == null || labels.get(INDEX_LABEL) == null) {
        continue;
      }
      int slot;
      long index;
      Long by;
      try {
        slot = Integer.parseInt(name.substring(slotPrefix.length()));
        index = Long.parseLong(labels.get(INDEX_LABEL));
        by = labels.get(FOLDED_LABEL) == null ? null : Long.parseLong(labels.get(FOLDED_LABEL));
      } catch (NumberFormatException notOurs) {
        continue;
      }
      if (slot < 0
          || slot >= LEGACY_SLOTS
          || index < 1
          || (by == null && slot != index % LEGACY_SLOTS)) {
        continue;
      }
      if (slot < JOURNAL_SLOTS) {
        versions.put(slot, cm.getMetadata().getResourceVersion());
        held.put(slot, index);
      } else {
        old.put(slot, index);
      }
      foldedBy.put(index, by);
      if (index > folded) {
        after.put(index, cm);
      }
    }
    if (old.isEmpty()) {
      retired.remove(namespace);
    } else {
      retired.put(namespace, new ConcurrentHashMap<>(old));
    }
    java.util.List<Batch> batches = new java.util.ArrayList<>();
    long expected = folded + 1;
    for (Map.Entry<Long, ConfigMap> e : after.entrySet()) {
      if (e.getKey() != expected) {
        throw new MissingBatchException(
            "batch "
                + expected
                + " of the spend journal of namespace "
                + namespace
                + " is gone (folded meanwhile)");
      }
      batches.add(parseBatch(e.getKey(), e.getValue()));
      expected++;
    }
    long head = expected - 1;
    // what the head batch's writer knew committed; a head from the 128-slot ring: its writer
    // appended it only once the batch 128 before was folded; no head batch: all is folded
    long reusable;
    if (!foldedBy.containsKey(head)) {
      reusable = head;
    } else if (foldedBy.get(head) == null) {
      reusable = head - LEGACY_SLOTS;
    } else {
      reusable = Math.min(head, foldedBy.get(head));
    }
    return new Journal(new Head(head, versions, held, reusable), batches);
  }

  @Override
  public long journalBytesWritten() {
    return journalBytes.get();
  }

  @Override
  public void retire(String namespace, long folded) {
    Map<Integer, Long> old = retired.get(namespace);
    if (old == null) {
      return;
    }
    for (Map.Entry<Integer, Long> e : Map.copyOf(old).entrySet()) {
      if (e.getValue() <= folded) {
        // a slot of the earlier ring, its batch folded: never written again, gone in one delete
        client
            .configMaps()
            .inNamespace(operatorNamespace)
            .withName(slotName(prefix, namespace, e.getKey()))
            .delete();
        old.remove(e.getKey());
      }
    }
    if (old.isEmpty()) {
      retired.remove(namespace, old);
    }
  }

  static Batch parseBatch(long index, ConfigMap cm) {
    try {
      String gz = cm.getBinaryData() == null ? null : cm.getBinaryData().get(BATCH_GZ_KEY);
      BatchJson b =
          gz != null
              ? JSON.readValue(gunzip(java.util.Base64.getDecoder().decode(gz)), BatchJson.class)
              : JSON.readValue(cm.getData().get(BATCH_KEY), BatchJson.class);
      java.util.List<Entry> entries = new java.util.ArrayList<>();
      for (EntryJson e : b.entries) {
        entries.add(new Entry(e.report, e.reporter));
      }
      String by = cm.getMetadata().getLabels().get(FOLDED_LABEL);
      return new Batch(
          index, java.time.Instant.parse(b.at), entries, by == null ? 0 : Long.parseLong(by));
    } catch (java.io.IOException | RuntimeException e) {
      throw new IllegalStateException(
          "ConfigMap "
              + cm.getMetadata().getName()
              + " does not hold a Tollgate spend journal batch; it is owned by the operator, do not"
              + " edit it",
          e);
    }
  }

  /** Batches are stored gzipped (binaryData): their reports repeat the same names over and over. */
  static final String BATCH_GZ_KEY = "batch.json.gz";

  /** The largest batch read back, uncompressed: four times what a batch may hold stored. */
  private static final int MAX_BATCH_JSON = 4 * MAX_BYTES;

  static byte[] gzip(byte[] json) {
    var out = new java.io.ByteArrayOutputStream(json.length / 4 + 64);
    try (var gz = new java.util.zip.GZIPOutputStream(out)) {
      gz.write(json);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  static byte[] gunzip(byte[] gzipped) throws java.io.IOException {
    try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gzipped))) {
      byte[] json = in.readNBytes(MAX_BATCH_JSON + 1);
      if (json.length > MAX_BATCH_JSON) {
        throw new java.io.IOException("a journal batch larger than " + MAX_BATCH_JSON + " bytes");
      }
      return json;
    }
  }

  /** A batch as stored, in bytes of UTF-8 JSON. */
  static byte[] serialize(Batch batch) {
    BatchJson b = new BatchJson();
    b.at = batch.at().toString();
    for (Entry e : batch.entries()) {
      EntryJson j = new EntryJson();
      j.report = e.report();
      j.reporter = e.reporter();
      b.entries.add(j);
    }
    try {
      return JSON.writeValueAsBytes(b);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a spend journal batch", e);
    }
  }

  @Override
  public Head append(String namespace, Head head, Batch batch) {
    byte[] json = gzip(serialize(batch));
    int stored = (json.length + 2) / 3 * 4; // base64
    if (stored > MAX_BYTES) {
      throw new LedgerTooLargeException(
          "a batch of reports of namespace "
              + namespace
              + " would be "
              + stored / 1024
              + " KiB, over the "
              + MAX_BYTES / 1024
              + " KiB the operator writes",
          stored);
    }
    int slot = nextSlot(head, JOURNAL_SLOTS);
    String version = head.slots().get(slot);
    ConfigMap object =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(slotName(prefix, namespace, slot))
            .withNamespace(operatorNamespace)
            .withResourceVersion(version)
            .addToLabels("app.kubernetes.io/managed-by", "tollgate-operator")
            .addToLabels("app.kubernetes.io/component", JOURNAL_COMPONENT)
            .addToLabels(NAMESPACE_LABEL, namespace)
            .addToLabels(INDEX_LABEL, Long.toString(batch.index()))
            .addToLabels(FOLDED_LABEL, Long.toString(batch.folded()))
            .endMetadata()
            .withBinaryData(
                Map.of(BATCH_GZ_KEY, java.util.Base64.getEncoder().encodeToString(json)))
            .build();
    var configMaps = client.configMaps().inNamespace(operatorNamespace);
    try {
      // The one write that commits: a create fails if the slot exists, an update if the slot
      // changed since this writer knew it (another writer committed this index, or a later one).
      ConfigMap written =
          version == null
              ? configMaps.resource(object).create()
              : configMaps.resource(object).update();
      journalBytes.addAndGet(stored);
      return head.next(
          batch.index(), slot, written.getMetadata().getResourceVersion(), batch.folded());
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT
          || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        return null; // not committed: load again
      }
      throw e;
    }
  }
}
