package dev.tollgate.operator.batch;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.HttpURLConnection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The provider batches of each tenant namespace that have not ended yet, and the ids of those that
 * did (so that a report resent after the batch was metered does not open it again): one small
 * ConfigMap {@code tollgate-batches-<tenant namespace>} in the operator's namespace, out of the
 * tenant's reach, next to (not inside) the spend ledger. Every change is a read-modify-write
 * conditional on the object's resourceVersion, so two writers never lose each other's change.
 */
public final class OpenBatches {
  public static final String PREFIX = "tollgate-batches";
  public static final String COMPONENT = "open-batches";
  public static final String NAMESPACE_LABEL = "tollgate.dev/namespace";
  public static final String LABEL_SELECTOR = "app.kubernetes.io/component=" + COMPONENT;
  static final String KEY = "batches.json";

  /** Open batches a namespace may hold; beyond, a new one is not tracked (an Event says so). */
  public static final int MAX_OPEN = 500;

  /** Ids of ended batches remembered, the oldest forgotten first. */
  static final int MAX_DONE = 2_000;

  private static final int MAX_ATTEMPTS = 8;

  static final ObjectMapper JSON =
      JsonMapper.builder()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .build();

  /** One running batch, as the operator keeps it. */
  public static final class Open {
    public String credential;
    public String api;
    public long items;
    public Map<String, String> estimates = new TreeMap<>();
    public List<UsageReport.BatchRoute> routes = new ArrayList<>();
    public String pod;
    public String admittedAt;
    public String nextPollAt;
    public int failures;
    public String lastError;

    /** The estimate held against {@code budget}. */
    BigDecimal held(String budget) {
      String v = estimates.get(budget);
      return v == null ? BigDecimal.ZERO : new BigDecimal(v);
    }
  }

  /** A namespace's open and recently ended batches. */
  public static final class Book {
    public Map<String, Open> open = new TreeMap<>();

    /** Ended batch id → how it ended and when ({@code metered 2026-...}). */
    public Map<String, String> done = new TreeMap<>();

    /** USD held per budget by the open batches. */
    public Map<String, BigDecimal> held() {
      Map<String, BigDecimal> out = new TreeMap<>();
      for (Open o : open.values()) {
        o.estimates.forEach((b, usd) -> out.merge(b, new BigDecimal(usd), BigDecimal::add));
      }
      return out;
    }

    void finish(String id, String outcome, Instant at) {
      open.remove(id);
      done.put(id, outcome + " " + at);
      while (done.size() > MAX_DONE) {
        // the oldest by the time it ended
        String oldest =
            done.entrySet().stream()
                .min(Map.Entry.comparingByValue((a, b) -> time(a).compareTo(time(b))))
                .orElseThrow()
                .getKey();
        done.remove(oldest);
      }
    }

    private static String time(String outcome) {
      int sp = outcome.lastIndexOf(' ');
      return sp < 0 ? outcome : outcome.substring(sp + 1);
    }
  }

  private final KubernetesClient client;
  private final String operatorNamespace;

  public OpenBatches(KubernetesClient client, String operatorNamespace) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
  }

  public static String objectName(String namespace) {
    return PREFIX + "-" + namespace;
  }

  /** The namespaces that have a book. */
  public List<String> namespaces() {
    List<String> out = new ArrayList<>();
    for (ConfigMap cm :
        client
            .configMaps()
            .inNamespace(operatorNamespace)
            .withLabel("app.kubernetes.io/component", COMPONENT)
            .list()
            .getItems()) {
      Map<String, String> labels = cm.getMetadata().getLabels();
      if (labels != null && labels.get(NAMESPACE_LABEL) != null) {
        out.add(labels.get(NAMESPACE_LABEL));
      }
    }
    return out;
  }

  /** The book of {@code namespace}, empty when it has none. */
  public Book read(String namespace) {
    ConfigMap cm =
        client.configMaps().inNamespace(operatorNamespace).withName(objectName(namespace)).get();
    return parse(cm);
  }

  /** The book an object holds (empty for null). */
  public static Book parse(ConfigMap cm) {
    String text = cm == null || cm.getData() == null ? null : cm.getData().get(KEY);
    if (text == null) {
      return new Book();
    }
    try {
      return JSON.readValue(text, Book.class);
    } catch (IOException e) {
      throw new UncheckedIOException("the open-batches object is not readable", e);
    }
  }

  /**
   * Changes the book of {@code namespace} by {@code change} (which may be called again on a fresher
   * copy) and stores it, conditional on the version read. Returns the stored book.
   */
  public Book update(String namespace, UnaryOperator<Book> change) {
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      ConfigMap cm =
          client.configMaps().inNamespace(operatorNamespace).withName(objectName(namespace)).get();
      Book book = change.apply(parse(cm));
      ConfigMap next =
          new ConfigMapBuilder()
              .withNewMetadata()
              .withName(objectName(namespace))
              .withNamespace(operatorNamespace)
              .withResourceVersion(cm == null ? null : cm.getMetadata().getResourceVersion())
              .addToLabels("app.kubernetes.io/managed-by", "tollgate-operator")
              .addToLabels("app.kubernetes.io/component", COMPONENT)
              .addToLabels(NAMESPACE_LABEL, namespace)
              .endMetadata()
              .withData(Map.of(KEY, write(book)))
              .build();
      try {
        if (cm == null) {
          client.configMaps().inNamespace(operatorNamespace).resource(next).create();
        } else {
          client.configMaps().inNamespace(operatorNamespace).resource(next).update();
        }
        return book;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
      }
    }
    throw new IllegalStateException(
        "the open batches of namespace " + namespace + " kept changing underneath");
  }

  private static String write(Book book) {
    try {
      return JSON.writeValueAsString(book);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
